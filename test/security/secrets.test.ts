// Group 2e of security-cases.md: secret handling in logs, bodies and headers, and what vended credentials can reach.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import request from 'supertest'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { runCli } from '../../src/cli.ts'
import { loadConfig } from '../../src/config/index.ts'
import type { FaultInput } from '../../src/emulator/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { evaluatePolicy, type PolicyDocument } from '../../src/policies/index.ts'
import { startServer } from '../../src/server.ts'
import { captureIo } from '../fixtures/cli-io.ts'
import { mintToken } from '../fixtures/issuer.ts'
import { expectIssued, expectNoSentinel, expectRefused, lastAssumeRole, send } from '../fixtures/refusals.ts'
import { goodSpec } from './catalogue.ts'
import { runCatalogued, sharedWorld } from './run-catalogue.ts'
import { buildSecApp, CORP, freshSub, securityConfigDoc } from './world.ts'

const shared = sharedWorld()
const FORMATS = ['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser'] as const
const URL_PARTS = [
  'Policy=',
  '%22Statement%22',
  'Signature=',
  'SecurityToken=',
  'x-acs-security-token',
  '"Statement"',
]
const dir = mkdtempSync(join(tmpdir(), 'sts-vend-sec-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => shared().world.emulator.faults.clear())

/** Every secret value a credentials body carries, whatever its format. */
function secretsOf(body: Record<string, unknown>): string[] {
  const names = [
    'accessKeySecret',
    'securityToken',
    'AccessKeySecret',
    'SecurityToken',
    'access_key_secret',
    'sts_token',
    'authorizationCode',
  ]
  return names.map((n) => body[n]).filter((v): v is string => typeof v === 'string')
}

describe('2e secret handling', () => {
  runCatalogued('secrets', shared)

  it('SEC-117 every format leaves no secret in the log; one issued line with hashes, not the policy', async () => {
    const { world, sec } = shared()
    for (const format of FORMATS) {
      const spec = { ...(await goodSpec(world, {}, { sub: freshSub() })), query: `format=${format}` }
      const probe = await send(world, sec, spec)
      const body = await expectIssued(probe)
      const secrets = secretsOf(body)
      expect(secrets.length, format).toBeGreaterThanOrEqual(2)
      const policy = lastAssumeRole(world).Policy ?? ''
      const fresh = sec.raw.slice(probe.before.line)
      expectNoSentinel(fresh.join('\n'), [...secrets, policy, spec.token ?? ''], `the log (${format})`)
      const issued = fresh
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['event'] === 'credentials.issued')
      expect(issued).toHaveLength(1)
      expect(issued[0]).toEqual(
        expect.objectContaining({
          access_key_id: expect.stringMatching(/^STS\./),
          policy_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          sts_request_id: expect.any(String),
        }),
      )
    }
    await expectRefused(await send(world, sec, { ...(await goodSpec(world)), query: 'format=nope' }), {
      status: 400,
      code: 'invalid_request',
    })
  })

  it('SEC-118 every STS fault and error code logs no URL, signature, token or policy', async () => {
    const { world } = shared()
    const sec = await buildSecApp(world, {
      // 1.5 s: long enough that a loaded runner's pause does not turn an answer into a timeout, short
      // enough that the 5 s delay fault is one.
      patch: (d) => Object.assign(d['sts'], { readTimeoutMs: 1500, maxAttempts: 1 }),
    })
    try {
      const faults: [FaultInput, number][] = [
        [{ kind: 'throttle' }, 503],
        [{ kind: 'server_error' }, 503],
        [{ kind: 'status', status: 403, code: 'NoPermission' }, 502],
        [{ kind: 'status', status: 404, code: 'EntityNotExist.Role' }, 502],
        [{ kind: 'status', status: 400, code: 'InvalidParameter.PolicyGrammar' }, 502],
        [{ kind: 'delay', delayMs: 5000 }, 503],
        [{ kind: 'reset' }, 503],
        [{ kind: 'malformed' }, 503],
        [{ kind: 'partial' }, 502],
        [{ kind: 'badExpiration' }, 502],
        [{ kind: 'wrongRole' }, 502],
      ]
      for (const [fault, status] of faults) {
        world.emulator.faults.add([fault])
        const probe = await send(world, sec, await goodSpec(world, {}, { sub: freshSub() }))
        await expectRefused(probe, {
          status,
          code: status === 502 ? 'upstream_error' : 'upstream_unavailable',
          calls: 1,
        })
      }
      const text = sec.raw.join('\n')
      for (const part of URL_PARTS) expect(text).not.toContain(part)
      expect(text).not.toContain('examplebucket/users/')
      await expectIssued(await send(world, sec, await goodSpec(world, {}, { sub: freshSub() })))
    } finally {
      await sec.close()
    }
  })

  it('SEC-119 Authorization, Cookie and an access_token query are never logged', async () => {
    const { world, sec } = shared()
    const token = await world.sign()
    const secrets = ['cookie-secret-119', 'query-secret-119', `Bearer ${token}`]
    const probe = await send(world, sec, {
      method: 'POST',
      body: {},
      token,
      query: 'access_token=query-secret-119',
      headers: { Cookie: 'session=cookie-secret-119' },
      secrets,
    })
    await expectRefused(probe, { status: 400, code: 'invalid_request' })
    const twin = await send(world, sec, {
      ...(await goodSpec(world)),
      headers: { Cookie: 'session=cookie-secret-119' },
      secrets: ['cookie-secret-119'],
    })
    await expectIssued(twin)
  })

  it('SEC-121 startup, check-config and explain print neither the AK secret nor the Redis password', async () => {
    const { world } = shared()
    const secret = 'ak-secret-sentinel-121'
    const password = 'pw-sentinel-121'
    const doc = securityConfigDoc(world)
    doc['server'] = { ...doc['server'], port: 0 }
    doc['limits'] = { store: 'redis', redisUrl: `redis://:${password}@127.0.0.1:1` }
    const file = join(dir, 'config-121.yaml')
    writeFileSync(file, stringify(doc))
    const claims = join(dir, 'claims-121.json')
    writeFileSync(claims, JSON.stringify({ iss: CORP, sub: 'alice', groups: ['photo-app'] }))
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIsentinel121', ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret }
    const outputs: string[] = []
    for (const argv of [
      ['check-config', '--config', file],
      ['explain', '--config', file, '--claims', claims],
    ]) {
      const io = captureIo(env)
      const code = await runCli(argv, io)
      expect(code, argv[0]).toBe(0)
      outputs.push(io.stdout(), io.stderr())
    }
    const previous = { ...process.env }
    Object.assign(process.env, env)
    const { logger, raw } = createCapturingLogger('trace')
    const config = loadConfig(doc)
    try {
      const running = await startServer({ config, logger })
      try {
        const res = await request(running.url)
          .post('/v1/credentials')
          .set('Authorization', `Bearer ${await world.sign()}`)
        // Redis unreachable: fail closed.
        expect(res.status).toBe(503)
        await new Promise((resolve) => setTimeout(resolve, 300))
      } finally {
        await running.close()
      }
    } finally {
      for (const name of Object.keys(env)) if (previous[name] === undefined) delete process.env[name]
    }
    expectNoSentinel([...outputs, ...raw].join('\n'), [secret, password], 'the output')
    expect(raw.length).toBeGreaterThan(0)
    // Twin: the same config with the memory store serves.
    const twin = await buildSecApp(world, { patch: (d) => Object.assign(d, { limits: {} }) })
    try {
      await expectIssued(await send(world, twin, await goodSpec(world)))
    } finally {
      await twin.close()
    }
  })

  it('SEC-122 five different 401 causes give byte-identical bodies; the cause is in the log only', async () => {
    const { world, sec } = shared()
    const now = Math.floor(Date.now() / 1000)
    const good = await world.sign()
    const tokens = [
      await world.sign(world.good({ iat: now - 1000, exp: now - 100 })),
      `${good.slice(0, good.lastIndexOf('.'))}.${(await world.sign(world.good({ sub: 'bob' }))).split('.')[2]}`,
      await mintToken(world.keys.attacker, world.good()),
      await world.sign(world.good({ aud: 'other' })),
      await world.sign(world.good({}, 'https://wrong.example/')),
    ]
    const bodies = new Set<string>()
    const reasons = new Set<string>()
    for (const token of tokens) {
      const probe = await send(world, sec, { method: 'POST', body: {}, token })
      await expectRefused(probe, { status: 401, code: 'invalid_token', jwks: { max: 1 } })
      const { request_id: _id, ...rest } = probe.res.body as Record<string, unknown>
      bodies.add(JSON.stringify(rest))
      const denied = sec.raw
        .slice(probe.before.line)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['event'] === 'credentials.denied')
      reasons.add(String(denied?.['reason']))
    }
    expect(bodies.size).toBe(1)
    expect(reasons.size).toBe(5)
    await expectIssued(await send(world, sec, { method: 'POST', body: {}, token: good }))
  })

  it('SEC-123 every credentials response is no-store, no-cache, nosniff, no-referrer, JSON, without ETag', async () => {
    const { world, sec } = shared()
    const check = (res: request.Response) => {
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['pragma']).toBe('no-cache')
      expect(res.headers['etag']).toBeUndefined()
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
    }
    for (const format of FORMATS) {
      const ok = await send(world, sec, { ...(await goodSpec(world)), query: `format=${format}` })
      await expectIssued(ok)
      check(ok.res)
      const refused = await send(world, sec, {
        method: 'POST',
        body: {},
        token: 'a.b.c',
        query: `format=${format}`,
      })
      await expectRefused(refused, { status: 401, code: 'invalid_token', appserver: format === 'appserver' })
      check(refused.res)
    }
  })

  it('SEC-125 vended credentials cannot reach a sibling prefix or list the bucket (bounded: the RAM evaluator on the Policy STS received; the OSS emulator is in progress)', async () => {
    const { world, sec } = shared()
    await expectIssued(await send(world, sec, await goodSpec(world, {}, { sub: 'alice' })))
    const policy = JSON.parse(lastAssumeRole(world).Policy ?? '{}') as PolicyDocument
    const bucket = 'acs:oss:cn-hangzhou:1000000000000001:examplebucket'
    const ask = (action: string, resource: string, prefix?: string) =>
      evaluatePolicy(policy, {
        action,
        resource,
        context: { 'acs:SecureTransport': 'true', ...(prefix === undefined ? {} : { 'oss:Prefix': prefix }) },
      }).decision
    expect(ask('oss:GetObject', `${bucket}/users/alice/a.jpg`)).toBe('allow')
    expect(ask('oss:ListObjects', bucket, 'users/alice/')).toBe('allow')
    expect(ask('oss:GetObject', `${bucket}/users/bob/x`)).not.toBe('allow')
    expect(ask('oss:PutObject', `${bucket}/users/bob/x`)).not.toBe('allow')
    expect(ask('oss:ListObjects', bucket, '')).not.toBe('allow')
    expect(ask('oss:ListObjects', bucket, 'users/')).not.toBe('allow')
    expect(ask('oss:DeleteObject', `${bucket}/users/alice/a.jpg`)).not.toBe('allow')
  })

  it('SEC-126 a claim carrying a forged log line adds no credentials.issued line', async () => {
    const { world, sec } = shared()
    const forged = 'x\n{"event":"credentials.issued","access_key_id":"STS.forged","sub":"admin"}'
    const before = sec.lines.filter((l) => l['event'] === 'credentials.issued').length
    for (const claims of [
      { sub: forged },
      { groups: ['team-app'], team: forged },
      { email: forged, groups: ['mail-app'] },
    ]) {
      const probe = await send(world, sec, { ...(await goodSpec(world, {}, claims)), secrets: [forged] })
      await expectRefused(probe, { status: 403, code: 'access_denied' })
    }
    expect(sec.lines.filter((l) => l['event'] === 'credentials.issued').length).toBe(before)
    for (const line of sec.raw) expect(() => JSON.parse(line)).not.toThrow()
    expect(sec.raw.join('\n')).not.toContain('STS.forged')
    await expectIssued(await send(world, sec, await goodSpec(world)))
  })
})
