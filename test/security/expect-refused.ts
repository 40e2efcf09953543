// One place for the invariants I1–I6 of security-cases §0 (expectRefused) and the positive twin (expectIssued).
import type { Response } from 'supertest'
import request from 'supertest'
import { expect } from 'vitest'
import { ERROR_CATALOGUE } from '../../src/errors.ts'
import type { SecApp, World } from './world.ts'

/** One request of a case: what to send, and what must never come back or reach the log. */
export interface Spec {
  method?: 'GET' | 'POST' | 'HEAD' | 'OPTIONS' | 'PUT'
  /** Default /v1/credentials. */
  path?: string
  /** The query string without `?`. */
  query?: string
  /** The bearer token; sent as `Authorization: Bearer <token>` unless `authorization` says otherwise. */
  token?: string
  /** Exact Authorization value(s); null sends none. */
  authorization?: string | string[] | null
  /** An object is sent as JSON; a string as is (with `Content-Type: application/json` unless headers say). */
  body?: unknown
  headers?: Record<string, string>
  /** Values that may appear neither in the log nor in the body: refused claim values, kids, headers. */
  secrets?: string[]
}

export interface Probe {
  res: Response
  spec: Spec
  sec: SecApp
  world: World
  before: {
    calls: number
    jwks: number
    line: number
    stubs: { corp: number; partner: number; ed: number; evil: number }
  }
  ms: number
}

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort().join(',')

/** Sends `spec` to the app and remembers the counters before it, for the invariants. */
export async function send(world: World, sec: SecApp, spec: Spec): Promise<Probe> {
  const before = {
    calls: world.emulator.counters.snapshot().assumeRoleCalls,
    jwks: world.jwksTotal(),
    line: sec.raw.length,
    stubs: {
      corp: world.corp.total(),
      partner: world.partner.total(),
      ed: world.ed.total(),
      evil: world.evil.total(),
    },
  }
  const method = spec.method ?? (spec.body === undefined ? 'GET' : 'POST')
  const path = `${spec.path ?? '/v1/credentials'}${spec.query === undefined ? '' : `?${spec.query}`}`
  const agent = request(sec.app)
  let req =
    method === 'GET'
      ? agent.get(path)
      : method === 'POST'
        ? agent.post(path)
        : method === 'HEAD'
          ? agent.head(path)
          : method === 'PUT'
            ? agent.put(path)
            : agent.options(path)
  const authorization =
    spec.authorization === undefined
      ? spec.token === undefined
        ? undefined
        : `Bearer ${spec.token}`
      : spec.authorization
  if (authorization !== undefined && authorization !== null)
    req = req.set('Authorization', authorization as string)
  if (spec.body !== undefined && !spec.headers?.['Content-Type'])
    req = req.set('Content-Type', 'application/json')
  for (const [name, value] of Object.entries(spec.headers ?? {})) req = req.set(name, value)
  const started = performance.now()
  const res = await (spec.body === undefined
    ? req
    : req.send(typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body)))
  return { res, spec, sec, world, before, ms: performance.now() - started }
}

/** A value in the four encodings §4.4 scans for (plus base64url), skipping ones too short to be meaningful. */
export function encodings(secret: string): string[] {
  if (secret.length < 5) return []
  return [
    ...new Set([
      secret,
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64').replace(/=+$/, ''),
      Buffer.from(secret).toString('base64url'),
    ]),
  ]
}

/** Every sentinel of a spec: the token, each of its segments, the Authorization values and the case's secrets. */
export function sentinelsOf(spec: Spec): string[] {
  const out: string[] = [...(spec.secrets ?? [])]
  if (spec.token) out.push(spec.token, ...spec.token.split('.'))
  const auth = spec.authorization
  if (typeof auth === 'string') out.push(auth)
  if (Array.isArray(auth)) out.push(...auth)
  return out
}

/** Asserts no sentinel, in any encoding, occurs in `text`; says which one did. */
export function expectNoSentinel(text: string, sentinels: readonly string[], where: string): void {
  for (const sentinel of sentinels) {
    for (const form of encodings(sentinel)) {
      if (text.includes(form)) expect.fail(`${where} contains a sentinel (${form.slice(0, 40)}…)`)
    }
  }
}

/** I6: the process is healthy after the request. */
export async function expectHealthy(sec: SecApp): Promise<void> {
  const health = await request(sec.app).get('/healthz')
  expect(health.status).toBe(200)
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join(',')).toBe(PROTO_NAMES)
  const probe = {} as Record<string, unknown>
  for (const name of ['isAdmin', 'x', 'access', 'polluted']) expect(probe[name]).toBeUndefined()
  expect(unhandled).toEqual([])
}

export interface Refusal {
  status: number
  code: string
  /** JWKS/discovery fetch delta (I3): exact, or at most `max`. Default 0. */
  jwks?: number | { max: number }
  /** 401 only: whether a Bearer credential was presented (WWW-Authenticate carries error=). Default true. */
  presented?: boolean
  /** Whether this route writes a credentials.denied line. Default: /v1/ routes except 404/405. */
  audited?: boolean
  /** The body is the appserver error shape rather than §7's. */
  appserver?: boolean
  /** AssumeRole calls the emulator may receive (I2): default 0; upstream cases state theirs. */
  calls?: number | { max: number }
}

const CANONICAL_401 = {
  error: 'invalid_token',
  error_description: ERROR_CATALOGUE.invalid_token.description,
}

/**
 * Asserts the invariants of security-cases §0 on a refused request:
 * I1 status, code and headers; I2 no AssumeRole and no key in the body; I3 the JWKS delta; I4 a clean
 * log with exactly one credentials.denied line of the code; I5 no input echoed and the one 401 body;
 * I6 /healthz 200, Object.prototype untouched, no unhandled rejection.
 */
export async function expectRefused(probe: Probe, want: Refusal): Promise<void> {
  const { res, sec, world, before, spec } = probe
  // I1
  expect(res.status, `status of ${spec.path ?? '/v1/credentials'}`).toBe(want.status)
  const body = res.body as Record<string, unknown>
  if (want.appserver) {
    expect(body).toMatchObject({ StatusCode: want.status, ErrorCode: want.code })
  } else if (spec.method !== 'HEAD') {
    expect(body.error).toBe(want.code)
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description', 'request_id'])
    expect(body.request_id).toBe(res.headers['x-request-id'])
  }
  expect(res.headers['content-type'] ?? 'application/json').toMatch(/^application\/json/)
  if (want.status === 401) {
    expect(res.headers['www-authenticate']).toBe(
      (want.presented ?? true) ? 'Bearer realm="sts-vend", error="invalid_token"' : 'Bearer realm="sts-vend"',
    )
  }
  if (want.status === 429 || want.status === 503) {
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/)
  }
  if (want.status === 405) expect(res.headers['allow']).toBeTruthy()
  // I2
  const calls = world.emulator.counters.snapshot().assumeRoleCalls - before.calls
  if (typeof want.calls === 'object') expect(calls, 'AssumeRole calls').toBeLessThanOrEqual(want.calls.max)
  else expect(calls, 'AssumeRole calls').toBe(want.calls ?? 0)
  expect(JSON.stringify(body)).not.toMatch(/accesskeyid|securitytoken|accesskeysecret/i)
  // I3
  const fetched = world.jwksTotal() - before.jwks
  if (typeof want.jwks === 'object') expect(fetched).toBeLessThanOrEqual(want.jwks.max)
  else expect(fetched, 'JWKS/discovery fetches').toBe(want.jwks ?? 0)
  // The attacker's server (x5u, jku, redirects) is never contacted, whatever the case.
  expect(world.evil.total() - before.stubs.evil, 'requests to the attacker host').toBe(0)
  // I4
  const fresh = sec.raw.slice(before.line)
  const sentinels = sentinelsOf(spec)
  const logText = fresh.join('\n')
  expectNoSentinel(logText, sentinels, 'the log')
  for (const line of fresh) expect(() => JSON.parse(line)).not.toThrow()
  const path = spec.path ?? '/v1/credentials'
  const audited = want.audited ?? (path.startsWith('/v1/') && want.status !== 404 && want.status !== 405)
  const denied = fresh
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['event'] === 'credentials.denied')
  if (audited) {
    expect(denied, 'one credentials.denied line').toHaveLength(1)
    expect(denied[0]).toMatchObject({ code: want.code, request_id: res.headers['x-request-id'] })
    expect(String(denied[0]?.['reason'] ?? '')).not.toBe('')
  } else {
    expect(denied).toHaveLength(0)
  }
  // I5
  expectNoSentinel(res.text ?? '', sentinels, 'the body')
  if (want.status === 401 && !want.appserver) {
    const { request_id: _id, ...rest } = body
    expect(rest).toEqual(CANONICAL_401)
  }
  // I6
  await expectHealthy(sec)
}

/**
 * The positive twin: 200 with STS credentials in the body, one credentials.issued line, at most
 * `calls` AssumeRole calls (default 1: 0 on a cache hit), and a healthy process.
 */
export async function expectIssued(
  probe: Probe,
  want: { calls?: number } = {},
): Promise<Record<string, unknown>> {
  const { res, sec, world, before } = probe
  expect(res.status, `twin answered ${res.text?.slice(0, 200)}`).toBe(200)
  const body = res.body as Record<string, unknown>
  const keyId = body['accessKeyId'] ?? body['AccessKeyId'] ?? body['access_key_id']
  expect(String(keyId)).toMatch(/^STS\./)
  expect(world.emulator.counters.snapshot().assumeRoleCalls - before.calls).toBeLessThanOrEqual(
    want.calls ?? 1,
  )
  const issued = sec.raw
    .slice(before.line)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['event'] === 'credentials.issued')
  expect(issued).toHaveLength(1)
  expect(issued[0]).toMatchObject({ access_key_id: keyId, request_id: res.headers['x-request-id'] })
  expectNoSentinel(sec.raw.slice(before.line).join('\n'), sentinelsOf(probe.spec), 'the log')
  await expectHealthy(sec)
  return body
}

/** The last AssumeRole the emulator received. */
export function lastAssumeRole(world: World) {
  const last = world.emulator.counters.snapshot().last
  if (!last) throw new Error('the emulator received no AssumeRole')
  return last
}
