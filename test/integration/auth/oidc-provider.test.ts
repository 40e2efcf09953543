// Against a real OpenID provider (oidc-provider v9 on 127.0.0.1): discovery, JWKS fetch and key rotation.
import { decodeProtectedHeader } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTokenVerifier } from '../../../src/auth/index.ts'
import type { IssuerConfig } from '../../../src/config/index.ts'
import { generateTestKey, type TestKey } from '../../fixtures/issuer.ts'
import { type OidcProviderFixture, startOidcProvider } from '../../fixtures/oidc-provider.ts'
import { expectInvalidToken, rejectionOf } from '../../fixtures/refusals.ts'

let k1: TestKey
let k2: TestKey
let op: OidcProviderFixture

beforeAll(async () => {
  ;[k1, k2] = await Promise.all([generateTestKey('RS256', 'op-k1'), generateTestKey('RS256', 'op-k2')])
  op = await startOidcProvider({ keys: [k1.privateJwk], accessTokenTtlSeconds: 3600 })
})

afterAll(async () => {
  await op.close()
})

beforeEach(async () => {
  await op.rotate([k1.privateJwk])
})

afterEach(() => {
  vi.useRealTimers()
})

function config(fields: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    id: 'op',
    issuer: op.issuer,
    discovery: true,
    audiences: ['sts-vend'],
    algorithms: ['RS256'],
    clockToleranceSeconds: 30,
    typ: 'at+jwt',
    ...fields,
  }
}

const bearer = (token: string) => [`Bearer ${token}`]

function fetchesSince(before: { discovery: number; jwks: number }) {
  return { discovery: op.counts.discovery - before.discovery, jwks: op.counts.jwks - before.jwks }
}

describe('a real provider', () => {
  it('when the issuer uses discovery, then a real access token verifies after one discovery and one JWKS fetch', async () => {
    const before = { ...op.counts }
    const v = createTokenVerifier([config()])
    const token = await op.accessToken()
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: 'op-k1' })
    const caller = await v.verify(bearer(token))
    expect(caller).toMatchObject({ issuerId: 'op', issuer: op.issuer, subject: op.clientId })
    expect(caller.claims).toMatchObject({ client_id: op.clientId, scope: 'credentials', aud: 'sts-vend' })
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })

    expect((await v.verify(bearer(await op.accessToken()))).subject).toBe(op.clientId)
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })
    expect(await v.readiness()).toEqual({ ready: true, issuers: { op: { ready: true } } })
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })
  })

  it('when the verifier has a mark, then every Caller it makes carries it, cached or not (config reload pins by it)', async () => {
    const mark = {}
    const v = createTokenVerifier([config()], { mark })
    const token = await op.accessToken()
    const first = await v.verify(bearer(token))
    expect(first.verifiedBy).toBe(mark)
    expect((await v.verify(bearer(token))).verifiedBy).toBe(mark)
    expect((await createTokenVerifier([config()]).verify(bearer(token))).verifiedBy).toBeUndefined()
  })

  it('when the issuer names the jwksUri directly, then tokens verify without discovery', async () => {
    const before = { ...op.counts }
    const { discovery: _off, ...direct } = config({ jwksUri: `${op.issuer}/jwks` })
    const v = createTokenVerifier([direct])
    expect((await v.verify(bearer(await op.accessToken()))).subject).toBe(op.clientId)
    expect(fetchesSince(before)).toEqual({ discovery: 0, jwks: 1 })
  })

  it('when readiness is asked before any token, then it discovers and fetches the keys once', async () => {
    const before = { ...op.counts }
    const v = createTokenVerifier([config()])
    expect(await v.readiness()).toEqual({ ready: true, issuers: { op: { ready: true } } })
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })
    await v.verify(bearer(await op.accessToken()))
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })
  })

  it.each([
    ['another audience', { audiences: ['another-api'] }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:aud:check_failed'],
    ['an ID-token typ', { typ: 'JWT' }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:typ:check_failed'],
    ['only ES256', { algorithms: ['ES256'] }, 'ERR_JOSE_ALG_NOT_ALLOWED'],
  ])(
    'when the issuer expects %s, then the provider token is refused with 401',
    async (_n, fields, reason) => {
      const v = createTokenVerifier([config(fields)])
      expectInvalidToken(await rejectionOf(v.verify(bearer(await op.accessToken()))), { reason })
    },
  )

  it('when the provider token is tampered with (sub changed), then 401', async () => {
    const v = createTokenVerifier([config()])
    const [h, p, s] = (await op.accessToken()).split('.')
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')
    expectInvalidToken(await rejectionOf(v.verify(bearer(`${h}.${forged}.${s}`))), {
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    })
  })

  it('when the provider rotates its key, then a token with the new kid is accepted without a new verifier, and the removed key stops working', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.now()
    vi.setSystemTime(start)
    const before = { ...op.counts }
    const v = createTokenVerifier([config()], { cacheMaxEntries: 0 })
    const old = await op.accessToken()
    expect((await v.verify(bearer(old))).subject).toBe(op.clientId)
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 1 })

    // The provider now signs with k2 and still publishes k1.
    await op.rotate([k2.privateJwk, k1.privateJwk])
    const rotated = await op.accessToken()
    expect(decodeProtectedHeader(rotated).kid).toBe('op-k2')
    // Within the 30 s cooldown an unknown kid triggers no fetch.
    expectInvalidToken(await rejectionOf(v.verify(bearer(rotated))), { reason: 'ERR_JWKS_NO_MATCHING_KEY' })
    expect(fetchesSince(before).jwks).toBe(1)

    vi.setSystemTime(start + 31_000)
    expect((await v.verify(bearer(rotated))).subject).toBe(op.clientId)
    expect((await v.verify(bearer(old))).subject).toBe(op.clientId)
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 2 })

    // k1 is withdrawn; once the cached key set is older than 10 minutes it is refetched.
    await op.rotate([k2.privateJwk])
    vi.setSystemTime(start + 31_000 + 10 * 60_000 + 1)
    expectInvalidToken(await rejectionOf(v.verify(bearer(old))), { reason: 'ERR_JWKS_NO_MATCHING_KEY' })
    expect((await v.verify(bearer(rotated))).subject).toBe(op.clientId)
    expect(fetchesSince(before)).toEqual({ discovery: 1, jwks: 3 })
  })
})
