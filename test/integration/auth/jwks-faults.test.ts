import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTokenVerifier } from '../../../src/auth/index.ts'
import type { IssuerConfig } from '../../../src/config/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import {
  epochSeconds,
  generateTestKey,
  goodClaims,
  issuerConfig,
  jwksOf,
  mintToken,
  type TestKey,
} from '../../fixtures/issuer.ts'
import { type JwksStub, startJwksStub } from '../../fixtures/jwks-server.ts'
import { deadPort } from '../../fixtures/ports.ts'
import { expectInvalidToken, expectUpstreamUnavailable, rejectionOf } from '../../fixtures/refusals.ts'

const START = new Date('2031-03-01T12:00:00Z').getTime()
const CORP = 'https://id.example.test/'

let rs1: TestKey
let rs1Twin: TestKey
let rs2: TestKey
let es1: TestKey
let stub: JwksStub
let evil: JwksStub
let clock: number
const now = () => new Date(clock)

beforeAll(async () => {
  ;[rs1, rs1Twin, rs2, es1] = await Promise.all([
    generateTestKey('RS256', 'rs1'),
    generateTestKey('RS256', 'rs1'),
    generateTestKey('RS256', 'rs2'),
    generateTestKey('ES256', 'es1'),
  ])
  stub = await startJwksStub()
  evil = await startJwksStub()
})

afterAll(async () => {
  await Promise.all([stub.close(), evil.close()])
})

beforeEach(() => {
  clock = START
  stub.setKeys(jwksOf(rs1, es1).keys)
  stub.setDiscovery(undefined)
  stub.fault(undefined)
  stub.resetCounts()
  evil.resetCounts()
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

const corp = (fields: Partial<IssuerConfig> = {}) =>
  issuerConfig({ id: 'corp', issuer: CORP, jwksUri: stub.jwksUri, ...fields })
const tokenOf = (key: TestKey, overrides: Record<string, unknown> = {}, issuer = CORP) =>
  mintToken(key, goodClaims(issuer, now(), overrides))
const bearer = (token: string) => [`Bearer ${token}`]

describe('a JWKS endpoint that fails', () => {
  it('when the JWKS answers 500, then 503 and at most one fetch per backoff window, whatever the traffic', async () => {
    stub.fault({ status: 500 }, 'jwks')
    const v = createTokenVerifier([corp()], { now })
    const token = await tokenOf(rs1)
    const burst = await Promise.allSettled(Array.from({ length: 50 }, () => v.verify(bearer(token))))
    for (const result of burst) {
      expect(result.status).toBe('rejected')
      // Calls that arrive after the failed fetch settled are answered by the backoff, without I/O.
      if (result.status === 'rejected')
        expectUpstreamUnavailable(result.reason, /^issuer_keys_(http_500|backoff)$/)
    }
    expect(stub.counts.jwks).toBe(1)

    for (let i = 0; i < 20; i++) {
      const err = expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(token))), 'issuer_keys_backoff')
      expect(err.retryAfterSeconds).toBe(1)
    }
    clock += 999
    await rejectionOf(v.verify(bearer(token)))
    expect(stub.counts.jwks).toBe(1)
    clock += 1
    expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(token))), 'issuer_keys_http_500')
    expect(stub.counts.jwks).toBe(2)
    clock += 1999
    expect(expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(token)))).retryAfterSeconds).toBe(1)
    expect(stub.counts.jwks).toBe(2)

    stub.fault(undefined)
    clock += 1
    const caller = await v.verify(bearer(token))
    expect(caller.subject).toBe('alice')
    expect(stub.counts.jwks).toBe(3)
  })

  it('when failures repeat, then the backoff doubles from 1 s and is capped at the cooldown', async () => {
    stub.fault({ status: 503 }, 'jwks')
    const v = createTokenVerifier([corp()], { now, cooldownMs: 30_000 })
    const token = await tokenOf(rs1)
    const waits: number[] = []
    for (let attempt = 0; attempt < 8; attempt++) {
      const err = expectUpstreamUnavailable(
        await rejectionOf(v.verify(bearer(token))),
        'issuer_keys_http_503',
      )
      waits.push(err.retryAfterSeconds)
      clock += err.retryAfterSeconds * 1000
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30, 30])
    expect(stub.counts.jwks).toBe(8)
  })

  it.each([
    ['a 404', { status: 404 }, 'http_404'],
    ['a redirect to another host', { redirectTo: 'EVIL' }, 'redirect_refused'],
    ['invalid JSON', { body: '{"keys": [' }, 'invalid_json'],
    ['text/html', { contentType: 'text/html' }, 'not_json_media_type'],
    ['a 2 MiB body', { bodyBytes: 2 * 1024 * 1024 }, 'too_large'],
    ['something other than a key set', { body: '{"keys":"none"}' }, 'jwks_not_a_key_set'],
    ['a reset connection', { reset: true }, /^network_/],
  ])(
    'when the JWKS answers %s, then 503, the issuer is not ready, and no token is accepted',
    async (_n, fault, reason) => {
      stub.fault('redirectTo' in fault ? { redirectTo: evil.jwksUri } : fault, 'jwks')
      const v = createTokenVerifier([corp()], { now })
      const err = expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(await tokenOf(rs1)))))
      const expected = typeof reason === 'string' ? `issuer_keys_${reason}` : /^issuer_keys_network_/
      if (typeof expected === 'string') expect(err.reason).toBe(expected)
      else expect(err.reason).toMatch(expected)
      clock += 60_000
      const readiness = await v.readiness()
      expect(readiness.ready).toBe(false)
      expect(readiness.issuers['corp']?.ready).toBe(false)
      expect(readiness.issuers['corp']?.reason).toMatch(reason)
      expect(stub.counts.jwks).toBe(2)
      expect(evil.total()).toBe(0)
    },
  )

  it('when the key set carries private key material, then the issuer is refused as leaking', async () => {
    stub.fault({ body: JSON.stringify({ keys: [rs1.privateJwk] }) }, 'jwks')
    const v = createTokenVerifier([corp()], { now })
    expectUpstreamUnavailable(
      await rejectionOf(v.verify(bearer(await tokenOf(rs1)))),
      'issuer_keys_jwks_private_key_material',
    )
  })

  it('when the JWKS does not answer within fetchTimeoutMs, then 503 timeout', async () => {
    stub.fault({ delayMs: 5_000 }, 'jwks')
    const v = createTokenVerifier([corp()], { now, fetchTimeoutMs: 100 })
    const started = performance.now()
    expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(await tokenOf(rs1)))), 'issuer_keys_timeout')
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('when the JWKS port is closed, then 503 with the connection error', async () => {
    const port = await deadPort()
    const v = createTokenVerifier([corp({ jwksUri: `http://127.0.0.1:${port}/jwks.json` })], { now })
    expectUpstreamUnavailable(
      await rejectionOf(v.verify(bearer(await tokenOf(rs1)))),
      'issuer_keys_network_ECONNREFUSED',
    )
  })

  it('when a token names a kid published twice, then 401 (no trying each key) and a warning is logged', async () => {
    stub.setKeys(jwksOf(rs1, rs1Twin, es1).keys)
    const { logger, lines } = createCapturingLogger()
    const v = createTokenVerifier([corp()], { now, logger })
    expectInvalidToken(await rejectionOf(v.verify(bearer(await tokenOf(rs1)))), {
      reason: 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
    })
    expect(lines.filter((line) => line['event'] === 'auth.jwks_duplicate_kid')).toEqual([
      expect.objectContaining({ issuer_id: 'corp', kids: ['rs1'], level: 'warn' }),
    ])
    expect((await v.verify(bearer(await tokenOf(es1)))).subject).toBe('alice')
  })

  it('when a fetch fails, then one warning names the issuer and the reason, and nothing else from the response', async () => {
    stub.fault({ status: 500 }, 'jwks')
    const { logger, lines, raw } = createCapturingLogger()
    const v = createTokenVerifier([corp()], { now, logger })
    const token = await tokenOf(rs1)
    await rejectionOf(v.verify(bearer(token)))
    await rejectionOf(v.verify(bearer(token)))
    expect(lines).toEqual([
      expect.objectContaining({ event: 'auth.issuer_fetch_failed', issuer_id: 'corp', reason: 'http_500' }),
    ])
    expect(raw.join('\n')).not.toContain(token.split('.')[1] ?? '')
  })
})

describe('readiness', () => {
  it('when the keys cannot be fetched, then not ready; once they can, ready, and then cached', async () => {
    stub.fault({ status: 500 }, 'jwks')
    const v = createTokenVerifier([corp()], { now })
    expect(await v.readiness()).toEqual({
      ready: false,
      issuers: { corp: { ready: false, reason: 'http_500' } },
    })
    expect(await v.readiness()).toEqual({
      ready: false,
      issuers: { corp: { ready: false, reason: 'http_500' } },
    })
    expect(stub.counts.jwks).toBe(1)

    stub.fault(undefined)
    clock += 1_000
    expect(await v.readiness()).toEqual({ ready: true, issuers: { corp: { ready: true } } })
    expect(stub.counts.jwks).toBe(2)
    expect(await v.readiness()).toEqual({ ready: true, issuers: { corp: { ready: true } } })
    expect(stub.counts.jwks).toBe(2)
    // The keys readiness fetched serve tokens: no further fetch.
    await v.verify(bearer(await tokenOf(rs1)))
    expect(stub.counts.jwks).toBe(2)
  })

  it('when one of two issuers is down, then not ready overall, and each issuer says why', async () => {
    const other = await startJwksStub({ keys: jwksOf(rs2).keys })
    try {
      other.fault({ status: 502 }, 'jwks')
      const v = createTokenVerifier(
        [
          corp(),
          issuerConfig({ id: 'partner', issuer: 'https://partner.example.test/', jwksUri: other.jwksUri }),
        ],
        { now },
      )
      expect(await v.readiness()).toEqual({
        ready: false,
        issuers: { corp: { ready: true }, partner: { ready: false, reason: 'http_502' } },
      })
    } finally {
      await other.close()
    }
  })

  it('when nothing has asked yet, then nothing has been fetched (no I/O at construction)', async () => {
    createTokenVerifier([corp(), corp({ id: 'again', issuer: 'https://again.example.test/' })], { now })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(stub.total()).toBe(0)
  })
})

describe('discovery', () => {
  const discovered = (fields: Partial<IssuerConfig> = {}) => {
    const { jwksUri: _none, ...config } = issuerConfig({
      id: 'corp',
      issuer: stub.url,
      discovery: true,
      ...fields,
    })
    return config
  }

  it('when discovery names the issuer and a loopback jwks_uri, then tokens verify with one discovery and one JWKS fetch', async () => {
    const v = createTokenVerifier([discovered()], { now })
    expect((await v.verify(bearer(await tokenOf(rs1, {}, stub.url)))).issuer).toBe(stub.url)
    expect((await v.verify(bearer(await tokenOf(es1, { sub: 'bob' }, stub.url)))).subject).toBe('bob')
    expect(stub.counts).toEqual({ discovery: 1, jwks: 1, other: 0 })
  })

  it('when the configured issuer ends in a slash, then discovery is at issuer-without-slash + /.well-known/openid-configuration', async () => {
    stub.setDiscovery({ issuer: `${stub.url}/`, jwks_uri: stub.jwksUri })
    const v = createTokenVerifier([discovered({ issuer: `${stub.url}/` })], { now })
    expect((await v.verify(bearer(await tokenOf(rs1, {}, `${stub.url}/`)))).subject).toBe('alice')
    expect(stub.counts).toEqual({ discovery: 1, jwks: 1, other: 0 })
  })

  it.each([
    [
      'names another issuer',
      () => ({ issuer: 'https://other.example.test/', jwks_uri: stub.jwksUri }),
      'discovery_issuer_mismatch',
    ],
    [
      'names the issuer with a trailing slash',
      () => ({ issuer: `${stub.url}/`, jwks_uri: stub.jwksUri }),
      'discovery_issuer_mismatch',
    ],
    [
      'gives an http jwks_uri on a public host',
      () => ({ issuer: stub.url, jwks_uri: 'http://jwks.example.test/keys' }),
      'discovery_jwks_uri_not_https',
    ],
    ['gives no jwks_uri', () => ({ issuer: stub.url }), 'discovery_jwks_uri_missing'],
    [
      'gives a jwks_uri that is not a URL',
      () => ({ issuer: stub.url, jwks_uri: 'not a url' }),
      'discovery_jwks_uri_invalid',
    ],
  ])(
    'SEC-031 when the discovery document %s, then the issuer is refused: 503 and not ready, keys never fetched',
    async (_n, doc, reason) => {
      stub.setDiscovery(doc())
      const v = createTokenVerifier([discovered()], { now })
      expectUpstreamUnavailable(
        await rejectionOf(v.verify(bearer(await tokenOf(rs1, {}, stub.url)))),
        `issuer_keys_${reason}`,
      )
      clock += 60_000
      expect(await v.readiness()).toEqual({ ready: false, issuers: { corp: { ready: false, reason } } })
      expect(stub.counts.jwks).toBe(0)
    },
  )

  it('when a token of a discovery issuer has an alg outside its list, then 401 before discovery is even fetched', async () => {
    const v = createTokenVerifier([discovered()], { now })
    const token = await tokenOf(rs1, {}, stub.url)
    const [, payload, signature] = token.split('.')
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.${signature}`
    expectInvalidToken(await rejectionOf(v.verify(bearer(none))), { reason: 'ERR_JOSE_ALG_NOT_ALLOWED' })
    expect(stub.total()).toBe(0)
  })

  it('when discovery fails once and then recovers, then it is fetched once more after the backoff and then never again', async () => {
    stub.fault({ status: 500 }, 'discovery')
    const v = createTokenVerifier([discovered()], { now })
    const token = await tokenOf(rs1, {}, stub.url)
    expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(token))), 'issuer_keys_http_500')
    expectUpstreamUnavailable(await rejectionOf(v.verify(bearer(token))), 'issuer_keys_backoff')
    stub.fault(undefined)
    clock += 1_000
    expect((await v.verify(bearer(token))).subject).toBe('alice')
    expect((await v.verify(bearer(await tokenOf(rs1, { sub: 'carol' }, stub.url)))).subject).toBe('carol')
    expect(stub.counts).toEqual({ discovery: 2, jwks: 1, other: 0 })
  })
})

describe('rotation and unknown kids (jose cooldown runs on Date, faked here)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(START)
  })

  it('SEC-029 when the issuer rotates rs1 → rs2, then rs2 is accepted after the cooldown without a new verifier, and rs1 stops once removed', async () => {
    const v = createTokenVerifier([corp()], { cacheMaxEntries: 0 })
    const old = await mintToken(rs1, goodClaims(CORP, new Date(), { exp: epochSeconds(new Date()) + 3600 }))
    expect((await v.verify(bearer(old))).subject).toBe('alice')
    expect(stub.counts.jwks).toBe(1)

    stub.setKeys(jwksOf(rs2, rs1).keys)
    const rotated = await mintToken(
      rs2,
      goodClaims(CORP, new Date(), { exp: epochSeconds(new Date()) + 3600 }),
    )
    // Inside the cooldown an unknown kid does not trigger a fetch.
    expectInvalidToken(await rejectionOf(v.verify(bearer(rotated))), { reason: 'ERR_JWKS_NO_MATCHING_KEY' })
    expect(stub.counts.jwks).toBe(1)

    vi.setSystemTime(START + 31_000)
    expect((await v.verify(bearer(rotated))).subject).toBe('alice')
    expect(stub.counts.jwks).toBe(2)
    expect((await v.verify(bearer(old))).subject).toBe('alice')

    stub.setKeys(jwksOf(rs2).keys)
    vi.setSystemTime(START + 31_000 + 10 * 60_000 + 1)
    expectInvalidToken(await rejectionOf(v.verify(bearer(old))), { reason: 'ERR_JWKS_NO_MATCHING_KEY' })
    expect((await v.verify(bearer(rotated))).subject).toBe('alice')
    expect(stub.counts.jwks).toBe(3)
  })

  it('SEC-028 when the JWKS is down and a token names an unknown kid, then 503 (clients retry), while known kids still verify', async () => {
    const v = createTokenVerifier([corp()], { cacheMaxEntries: 0 })
    expect((await v.verify(bearer(await tokenOf2(rs1)))).subject).toBe('alice')
    stub.fault({ status: 500 }, 'jwks')
    vi.setSystemTime(START + 31_000)
    expectUpstreamUnavailable(
      await rejectionOf(v.verify(bearer(await tokenOf2(rs2)))),
      'issuer_keys_http_500',
    )
    expect((await v.verify(bearer(await tokenOf2(rs1)))).subject).toBe('alice')
    expect(stub.counts.jwks).toBe(2)
  })
})

// Tokens dated by the (faked) system clock, for verifiers that use the default clock.
const tokenOf2 = (key: TestKey) => mintToken(key, goodClaims(CORP, new Date()))

describe('the verified-token cache', () => {
  it('when the same token is presented again, then its signature is not checked again', async () => {
    const verifySpy = vi.spyOn(crypto.subtle, 'verify')
    const v = createTokenVerifier([corp()], { now })
    const token = await tokenOf(rs1)
    const first = await v.verify(bearer(token))
    const second = await v.verify(bearer(token))
    expect(second).toBe(first)
    expect(verifySpy).toHaveBeenCalledTimes(1)
    await v.verify(bearer(await tokenOf(rs1, { sub: 'bob' })))
    expect(verifySpy).toHaveBeenCalledTimes(2)
  })

  it('when cacheMaxEntries is 0, then every presentation is verified', async () => {
    const verifySpy = vi.spyOn(crypto.subtle, 'verify')
    const v = createTokenVerifier([corp()], { now, cacheMaxEntries: 0 })
    const token = await tokenOf(rs1)
    await v.verify(bearer(token))
    await v.verify(bearer(token))
    expect(verifySpy).toHaveBeenCalledTimes(2)
  })

  it('when a cached token passes its exp, then it is verified afresh and refused beyond the tolerance', async () => {
    const verifySpy = vi.spyOn(crypto.subtle, 'verify')
    const v = createTokenVerifier([corp()], { now })
    const token = await tokenOf(rs1, { exp: epochSeconds(now()) + 60 })
    await v.verify(bearer(token))
    clock += 61_000
    await v.verify(bearer(token))
    expect(verifySpy).toHaveBeenCalledTimes(2)
    clock += 30_000
    expectInvalidToken(await rejectionOf(v.verify(bearer(token))), {
      reason: 'ERR_JWT_EXPIRED:exp:check_failed',
    })
  })

  it('when a cached token outgrows maxTokenAgeSeconds, then it is refused although exp is far', async () => {
    const v = createTokenVerifier([corp({ maxTokenAgeSeconds: 3600 })], { now })
    const token = await tokenOf(rs1, { iat: epochSeconds(now()) - 3590, exp: epochSeconds(now()) + 600 })
    await v.verify(bearer(token))
    clock += 41_000
    expectInvalidToken(await rejectionOf(v.verify(bearer(token))), {
      reason: 'ERR_JWT_EXPIRED:iat:check_failed',
    })
  })

  it('when a long-lived token stays cached 10 minutes, then it is verified afresh (removed keys take effect)', async () => {
    const verifySpy = vi.spyOn(crypto.subtle, 'verify')
    const v = createTokenVerifier([corp({ maxTokenAgeSeconds: 86_400 })], { now })
    const token = await tokenOf(rs1, { exp: epochSeconds(now()) + 7200 })
    await v.verify(bearer(token))
    clock += 10 * 60_000 - 1
    await v.verify(bearer(token))
    expect(verifySpy).toHaveBeenCalledTimes(1)
    clock += 1
    await v.verify(bearer(token))
    expect(verifySpy).toHaveBeenCalledTimes(2)
  })

  it('when a token is refused, then it is not cached: the refusal repeats', async () => {
    const v = createTokenVerifier([corp()], { now })
    const token = await tokenOf(rs1, { aud: 'other' })
    for (let i = 0; i < 3; i++) {
      expectInvalidToken(await rejectionOf(v.verify(bearer(token))), {
        reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED:aud:check_failed',
      })
    }
  })
})

describe('construction', () => {
  it('when two issuers share one issuer URL, then createTokenVerifier throws a TypeError', () => {
    expect(() => createTokenVerifier([corp(), corp({ id: 'copy' })])).toThrow(TypeError)
  })

  it.each([
    ['fetchTimeoutMs', { fetchTimeoutMs: -1 }],
    ['cooldownMs', { cooldownMs: 1.5 }],
    ['cacheMaxEntries', { cacheMaxEntries: Number.NaN }],
  ])('when %s is out of range, then createTokenVerifier throws a TypeError', (_n, options) => {
    expect(() => createTokenVerifier([corp()], options)).toThrow(TypeError)
  })
})
