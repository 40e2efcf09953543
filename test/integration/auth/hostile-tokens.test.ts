// The hostile-token suite (issue 5, security-cases §2a): every forged or broken token is a 401 with a log-only reason.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTokenVerifier, type TokenVerifier } from '../../../src/auth/index.ts'
import type { IssuerConfig } from '../../../src/config/index.ts'
import { cpuTimedAsync } from '../../fixtures/cpu-time.ts'
import {
  algNone,
  b64u,
  ecdsaOrder,
  ecdsaZero,
  es256Der,
  hs256,
  jweShaped,
  oversizedClaims,
  publicKeyAsSecrets,
  raw,
  signRaw,
  truncateSignature,
  withKeyReference,
  withSignatureOf,
} from '../../fixtures/forge.ts'
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
import { expectInvalidToken, rejectionOf } from '../../fixtures/refusals.ts'

const NOW = new Date('2031-03-01T12:00:00Z')
const T = epochSeconds(NOW)
const CORP = 'https://id.example.test/'
const PARTNER = 'https://partner.example.test/'

let rs1: TestKey
let es1: TestKey
let partnerRs1: TestKey
let partnerOnly: TestKey
let attacker: TestKey
let corp: JwksStub
let partner: JwksStub
let evil: JwksStub

beforeAll(async () => {
  ;[rs1, es1, partnerRs1, partnerOnly, attacker] = await Promise.all([
    generateTestKey('RS256', 'rs1'),
    generateTestKey('ES256', 'es1'),
    generateTestKey('RS256', 'rs1'),
    generateTestKey('RS256', 'p2'),
    generateTestKey('ES256', 'attacker'),
  ])
  corp = await startJwksStub({ keys: jwksOf(rs1, es1).keys })
  partner = await startJwksStub({ keys: jwksOf(partnerRs1, partnerOnly).keys })
  evil = await startJwksStub({ keys: jwksOf(attacker).keys })
})

afterAll(async () => {
  await Promise.all([corp.close(), partner.close(), evil.close()])
})

function issuers(corpOverrides: Partial<IssuerConfig> = {}): IssuerConfig[] {
  return [
    issuerConfig({ id: 'corp', issuer: CORP, jwksUri: corp.jwksUri, ...corpOverrides }),
    issuerConfig({ id: 'partner', issuer: PARTNER, jwksUri: partner.jwksUri }),
  ]
}

let verifier: TokenVerifier

beforeEach(() => {
  corp.resetCounts()
  partner.resetCounts()
  evil.resetCounts()
  verifier = createTokenVerifier(issuers(), { now: () => NOW })
})

const good = (overrides: Record<string, unknown> = {}) => goodClaims(CORP, NOW, overrides)
const bearer = (token: string) => [`Bearer ${token}`]

/** Verifies `token` (a bare token, or the header values as given), expects a 401, and checks JWKS traffic. */
async function expectRefused(
  token: string | string[],
  reason: string | RegExp,
  fetches: { corp?: number; partner?: number } = {},
  v: TokenVerifier = verifier,
) {
  const err = await rejectionOf(v.verify(typeof token === 'string' ? bearer(token) : token))
  const error = expectInvalidToken(err, { reason })
  expect(corp.total()).toBe(fetches.corp ?? 0)
  expect(partner.total()).toBe(fetches.partner ?? 0)
  expect(evil.total()).toBe(0)
  return error
}

/** The positive twin: the same verifier accepts `token` as alice of corp. */
async function expectAccepted(token: string | string[], v: TokenVerifier = verifier, subject = 'alice') {
  const caller = await v.verify(typeof token === 'string' ? bearer(token) : token)
  expect(caller).toMatchObject({ issuerId: 'corp', issuer: CORP, subject })
  return caller
}

describe('positive twins', () => {
  it.each([
    ['RS256 (rs1)', () => rs1],
    ['ES256 (es1)', () => es1],
  ])(
    'when a good %s token is presented, then the caller is alice of corp with one JWKS fetch',
    async (_name, key) => {
      const caller = await expectAccepted(await mintToken(key(), good()))
      expect(caller.claims['groups']).toEqual(['photo-app'])
      expect(Object.isFrozen(caller.claims)).toBe(true)
      expect(corp.counts.jwks).toBe(1)
      expect(partner.total()).toBe(0)
    },
  )

  it('when a good partner token is presented, then the caller is of partner, never corp', async () => {
    const caller = await verifier.verify(bearer(await mintToken(partnerRs1, goodClaims(PARTNER, NOW))))
    expect(caller).toMatchObject({ issuerId: 'partner', issuer: PARTNER, subject: 'alice' })
    expect(corp.total()).toBe(0)
  })
})

describe('SEC-001/002 alg none and its spellings', () => {
  it('SEC-001 when alg is none with an empty signature, then 401 before any key lookup', async () => {
    await expectRefused(algNone(good()), 'malformed_bearer')
  })

  it('SEC-001 when alg is none with a non-empty signature, then 401 before any key lookup', async () => {
    await expectRefused(raw({ alg: 'none', typ: 'JWT' }, good(), 'AAAA'), 'ERR_JOSE_ALG_NOT_ALLOWED')
  })

  it.each([
    ['None', { alg: 'None' }],
    ['NONE', { alg: 'NONE' }],
    ['noNE', { alg: 'noNE' }],
    ['empty', { alg: '' }],
    ['missing', {}],
    ['0', { alg: 0 }],
    ['["RS256"]', { alg: ['RS256'] }],
    ['null', { alg: null }],
  ])(
    'SEC-002 when alg is %s (a valid RS256 signature kept), then 401 with no JWKS fetch',
    async (_name, header) => {
      const signed = await mintToken(rs1, good())
      await expectRefused(
        withSignatureOf(raw({ kid: 'rs1', typ: 'JWT', ...header }, good()), signed),
        'ERR_JOSE_ALG_NOT_ALLOWED',
      )
    },
  )
})

describe('SEC-003/005/006 algorithm and key confusion', () => {
  it('SEC-003 when HS256 is signed with any form of the issuer RSA public key, then 401 for each form', async () => {
    const secrets = await publicKeyAsSecrets(rs1)
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(5)
    for (const secret of Object.values(secrets)) {
      await expectRefused(hs256({ kid: 'rs1' }, good(), secret), 'ERR_JOSE_ALG_NOT_ALLOWED')
    }
  })

  it.each(['PS256', 'RS512'] as const)(
    'SEC-005 when rs1 signs correctly but with alg %s (not in the issuer list), then 401',
    async (alg) => {
      await expectRefused(
        signRaw(rs1, { alg, kid: 'rs1', typ: 'JWT' }, good(), alg),
        'ERR_JOSE_ALG_NOT_ALLOWED',
      )
    },
  )

  it('SEC-006 when alg ES256 names the RSA kid rs1, then no key matches and 401', async () => {
    await expectRefused(
      signRaw(es1, { alg: 'ES256', kid: 'rs1', typ: 'JWT' }, good(), 'ES256'),
      'ERR_JWKS_NO_MATCHING_KEY',
      {
        corp: 1,
      },
    )
  })

  it('SEC-006 when alg RS256 names the EC kid es1, then no key matches and 401', async () => {
    await expectRefused(
      signRaw(rs1, { alg: 'RS256', kid: 'es1', typ: 'JWT' }, good(), 'RS256'),
      'ERR_JWKS_NO_MATCHING_KEY',
      {
        corp: 1,
      },
    )
  })
})

describe('SEC-009/010 header keys pointing at the attacker', () => {
  it.each([
    ['jwk with the attacker kid', 'jwk', false],
    ['jwk claiming kid rs1', 'jwk', true],
    ['jku', 'jku', false],
    ['x5u', 'x5u', false],
  ] as const)(
    'when the header carries %s, then 401, no JWKS fetch and the attacker server is never contacted',
    async (_n, kind, asRs1) => {
      const token = await withKeyReference(kind, attacker, good(), evil.jwksUri, asRs1 ? 'rs1' : attacker.kid)
      await expectRefused(token, `header_${kind}_refused`)
    },
  )

  it('SEC-009 when the header carries an x5c chain, then 401', async () => {
    const token = await mintToken(attacker, good(), { x5c: ['MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBBQUA'] })
    await expectRefused(token, 'header_x5c_refused')
  })
})

describe('SEC-007/027 unknown and hostile kids', () => {
  it.each([
    ['an unknown kid', 'nope'],
    ['a path', '../../../../dev/null'],
    ['SQL', "' OR '1'='1"],
    ['a URL', 'http://127.0.0.1:9/x'],
    ['a shell substitution', '$(id)'],
    ['a NUL suffix', 'rs1\u0000'],
    ['a number', 123],
    ['an object', { $ne: null }],
  ])(
    'SEC-007 when the kid is %s (signed by the attacker), then 401 after at most one JWKS fetch',
    async (_n, kid) => {
      await expectRefused(await mintToken(attacker, good(), { kid }), 'ERR_JWKS_NO_MATCHING_KEY', { corp: 1 })
    },
  )

  it('SEC-007 when the kid is 10 KB, then 401 on size before any fetch', async () => {
    await expectRefused(await mintToken(attacker, good(), { kid: 'k'.repeat(10_000) }), 'token_too_large')
  })

  describe('with the real clock faked', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('SEC-027 when 1,000 tokens with random kids arrive, then the JWKS is fetched once per 30 s cooldown', async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(NOW)
      const v = createTokenVerifier(issuers(), { now: () => new Date() })
      const burst = async () => {
        const claims = goodClaims(CORP, new Date())
        const tokens = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            mintToken(attacker, claims, { kid: `random-${i}-${Math.random()}` }),
          ),
        )
        const results = await Promise.allSettled(tokens.map((token) => v.verify(bearer(token))))
        for (const result of results) {
          expect(result.status).toBe('rejected')
          if (result.status === 'rejected')
            expectInvalidToken(result.reason, { reason: 'ERR_JWKS_NO_MATCHING_KEY' })
        }
      }
      await burst()
      expect(corp.counts.jwks).toBe(1)
      vi.setSystemTime(new Date(NOW.getTime() + 10_000))
      await burst()
      expect(corp.counts.jwks).toBe(1)
      vi.setSystemTime(new Date(NOW.getTime() + 31_000))
      await burst()
      expect(corp.counts.jwks).toBe(2)
      // The key set is still the issuer's: its own tokens pass throughout.
      await expectAccepted(await mintToken(rs1, goodClaims(CORP, new Date())), v)
      expect(corp.counts.jwks).toBe(2)
    })
  })
})

describe('SEC-012..016 time claims, tolerance 30 s, maxTokenAge 3600 s', () => {
  it.each([
    ['exp 31 s ago', { exp: T - 31 }, 'ERR_JWT_EXPIRED:exp:check_failed'],
    ['exp 30 s ago (tolerance is exclusive at exp)', { exp: T - 30 }, 'ERR_JWT_EXPIRED:exp:check_failed'],
    ['nbf 31 s ahead', { nbf: T + 31 }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:nbf:check_failed'],
    ['iat 31 s ahead', { iat: T + 31 }, 'ERR_JWT_CLAIM_VALIDATION_FAILED:iat:check_failed'],
    ['iat older than maxTokenAge + tolerance', { iat: T - 3631 }, 'ERR_JWT_EXPIRED:iat:check_failed'],
  ])('when %s, then 401', async (_n, overrides, reason) => {
    await expectRefused(await mintToken(rs1, good(overrides)), reason, { corp: 1 })
  })

  it.each([
    ['exp 29 s ago', { exp: T - 29 }],
    ['nbf 30 s ahead', { nbf: T + 30 }],
    ['iat 30 s ahead', { iat: T + 30 }],
    ['iat maxTokenAge + tolerance ago', { iat: T - 3630 }],
  ])('when %s (inside the tolerance), then accepted', async (_n, overrides) => {
    await expectAccepted(await mintToken(rs1, good(overrides)))
  })

  it('SEC-014 when maxTokenAgeSeconds is unset and iat is 31 s ahead, then 401 all the same (jose would not check it)', async () => {
    const { maxTokenAgeSeconds: _unset, ...noMaxAge } = issuerConfig({
      id: 'corp',
      issuer: CORP,
      jwksUri: corp.jwksUri,
    })
    const v = createTokenVerifier([noMaxAge], { now: () => NOW })
    await expectRefused(await mintToken(rs1, good({ iat: T + 31 })), 'iat_in_future', { corp: 1 }, v)
    await expectAccepted(await mintToken(rs1, good({ iat: T + 30 })), v)
    await expectAccepted(await mintToken(rs1, good({ iat: undefined })), v)
  })

  it('SEC-015 when exp is missing, then 401 (jose does not require it by default)', async () => {
    await expectRefused(
      await mintToken(rs1, good({ exp: undefined })),
      'ERR_JWT_CLAIM_VALIDATION_FAILED:exp:missing',
      {
        corp: 1,
      },
    )
  })

  it.each([
    ['a string', '9999999999'],
    ['null', null],
    ['true', true],
    ['[1]', [1]],
  ])('SEC-015 when exp is %s, then 401', async (_n, exp) => {
    await expectRefused(await mintToken(rs1, good({ exp })), 'ERR_JWT_CLAIM_VALIDATION_FAILED:exp:invalid', {
      corp: 1,
    })
  })

  it('SEC-015 when exp is 1e400 (JSON for Infinity), then 401 rather than a token that never expires', async () => {
    const text = JSON.stringify(good({ exp: undefined })).replace(/}$/, ',"exp":1e400}')
    await expectRefused(
      signRaw(rs1, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, text, 'RS256'),
      'exp_not_finite',
      { corp: 1 },
    )
  })
})

describe('SEC-018/019 issuer chosen by exact match before any I/O', () => {
  it.each([
    ['an unconfigured issuer', 'https://evil.example/'],
    ['no trailing slash', 'https://id.example.test'],
    ['upper case', 'HTTPS://ID.example.test/'],
    ['a trailing space', 'https://id.example.test/ '],
    ['a dot segment', 'https://id.example.test/%2e/'],
    ['a Cyrillic homoglyph', 'https://\u0456d.example.test/'],
  ])('when iss is %s, then 401 with no JWKS or discovery request anywhere', async (_n, iss) => {
    await expectRefused(await mintToken(rs1, good({ iss })), 'unknown_issuer')
  })

  it.each([
    ['missing', undefined],
    ['a number', 7],
    ['an array', [CORP]],
  ])('when iss is %s, then 401 with no request', async (_n, iss) => {
    await expectRefused(await mintToken(rs1, good({ iss })), 'iss_missing')
  })
})

describe('SEC-021/022 audience', () => {
  it.each([
    ['other', 'other'],
    ['missing', undefined],
    ['empty', ''],
    ['[]', []],
    ['["sts-vend-x"]', ['sts-vend-x']],
    ['" sts-vend"', ' sts-vend'],
    ['"STS-VEND"', 'STS-VEND'],
  ])('SEC-021 when aud is %s, then 401', async (_n, aud) => {
    await expectRefused(
      await mintToken(rs1, good({ aud })),
      /^ERR_JWT_CLAIM_VALIDATION_FAILED:aud:(check_failed|missing)$/,
      {
        corp: 1,
      },
    )
  })

  it('SEC-022 when aud lists sts-vend among others, then accepted (RFC 7519 semantics)', async () => {
    await expectAccepted(await mintToken(rs1, good({ aud: ['sts-vend', 'other'] })))
  })

  it.each([
    ['a number', 7],
    ['an object', {}],
  ])(
    'SEC-022 when aud lists sts-vend and %s, then 401 (jose does not type-check members)',
    async (_n, member) => {
      await expectRefused(
        await mintToken(rs1, good({ aud: ['sts-vend', member] })),
        'aud_member_not_string',
        { corp: 1 },
      )
    },
  )
})

describe('SEC-023 typ', () => {
  it.each([
    ['JWT (an ID token)', 'JWT'],
    ['secevent+jwt', 'secevent+jwt'],
    ['logout+jwt', 'logout+jwt'],
    ['missing', undefined],
  ])('when the issuer requires at+jwt and typ is %s, then 401', async (_n, typ) => {
    const v = createTokenVerifier(issuers({ typ: 'at+jwt' }), { now: () => NOW })
    await expectRefused(
      await mintToken(rs1, good(), { typ }),
      'ERR_JWT_CLAIM_VALIDATION_FAILED:typ:check_failed',
      { corp: 1 },
      v,
    )
  })

  it.each(['at+jwt', 'application/at+jwt'])(
    'when the issuer requires at+jwt and typ is %s, then accepted',
    async (typ) => {
      const v = createTokenVerifier(issuers({ typ: 'at+jwt' }), { now: () => NOW })
      await expectAccepted(await mintToken(rs1, good(), { typ }), v)
    },
  )
})

describe('SEC-025 cross-issuer keys', () => {
  it('when a corp token is signed with partner rs1 (same kid), then 401 and partner JWKS is never fetched', async () => {
    await expectRefused(await mintToken(partnerRs1, good()), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', {
      corp: 1,
    })
  })

  it('when a corp token names a kid only partner publishes, then 401 and partner JWKS is never fetched', async () => {
    await expectRefused(await mintToken(partnerOnly, good()), 'ERR_JWKS_NO_MATCHING_KEY', { corp: 1 })
  })
})

describe('SEC-038/039 broken signatures', () => {
  it.each([
    ['r = s = 0', () => ecdsaZero({ kid: 'es1' }, good())],
    ['r = s = n', () => ecdsaOrder({ kid: 'es1' }, good())],
    ['DER-encoded', () => es256Der(es1, {}, good())],
  ])('SEC-039 when the ES256 signature is %s, then 401', async (_n, build) => {
    await expectRefused(build(), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', { corp: 1 })
  })

  it('SEC-038 when the signature loses its last base64url character, then 401 (not canonical base64url)', async () => {
    await expectRefused(truncateSignature(await mintToken(rs1, good())), 'non_canonical_base64url')
  })

  it('SEC-038 when the signature loses its last byte, then 401 on verification', async () => {
    const token = await mintToken(rs1, good())
    const [h, p, s] = token.split('.')
    const shorter = Buffer.from(s ?? '', 'base64url').subarray(0, -1)
    await expectRefused(`${h}.${p}.${b64u(shorter)}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', { corp: 1 })
  })

  it.each([
    [
      'one byte',
      (t: string) => `${t.slice(0, t.lastIndexOf('.'))}.AA`,
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      1,
    ],
    ['missing (h.p.)', (t: string) => `${t.slice(0, t.lastIndexOf('.'))}.`, 'malformed_bearer', 0],
    ['absent (h.p)', (t: string) => t.slice(0, t.lastIndexOf('.')), 'malformed_bearer', 0],
  ])('SEC-038 when the signature is %s, then 401', async (_n, cut, reason, fetches) => {
    await expectRefused(cut(await mintToken(rs1, good())), reason, { corp: fetches })
  })

  it('SEC-038 when the signature of another valid token is attached, then 401', async () => {
    const other = await mintToken(rs1, good({ sub: 'bob' }))
    await expectRefused(
      withSignatureOf(await mintToken(rs1, good()), other),
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      {
        corp: 1,
      },
    )
  })
})

describe('SEC-042/043 other serializations', () => {
  it('SEC-042 when a JWE encrypted to rs1 is presented, then 401 on its shape alone', async () => {
    const jwe = await jweShaped(rs1, good())
    expect(jwe.split('.')).toHaveLength(5)
    await expectRefused(jwe, 'jwe_refused')
  })

  it('SEC-042 when a PBES2 JWE asks for 2^31 iterations, then 401 at once (nothing is derived)', async () => {
    const header = { alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2147483647, p2s: 'c2FsdHNhbHQ' }
    const { ms } = await cpuTimedAsync(() =>
      expectRefused(`${b64u(header)}.AAAA.AAAA.AAAA.AAAA`, 'jwe_refused'),
    )
    expect(ms).toBeLessThan(1000)
  })

  it('SEC-043 when a flattened JSON JWS is the bearer value, then 401', async () => {
    const [h, p, s] = (await mintToken(rs1, good())).split('.')
    await expectRefused(JSON.stringify({ protected: h, payload: p, signature: s }), 'malformed_bearer')
  })
})

describe('SEC-034/035/037/045 bytes and JSON', () => {
  const header = { alg: 'RS256', kid: 'rs1', typ: 'JWT' }

  it('SEC-034 when the header repeats alg (RS256 then none), then 401', async () => {
    const token = signRaw(rs1, '{"alg":"RS256","kid":"rs1","alg":"none"}', good(), 'RS256')
    await expectRefused(token, 'header_duplicate_member')
  })

  it('SEC-034 when a validly signed payload repeats sub, then 401 (no last-wins ambiguity)', async () => {
    const text = JSON.stringify(good()).replace(/}$/, ',"sub":"admin"}')
    await expectRefused(signRaw(rs1, header, text, 'RS256'), 'payload_duplicate_member')
  })

  it.each([
    [
      'invalid UTF-8 in sub',
      Buffer.concat([Buffer.from('{"sub":"al'), Buffer.from([0xc3, 0x28]), Buffer.from('ice"}')]),
    ],
    [
      'UTF-16LE with a BOM',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(good()), 'utf16le')]),
    ],
  ])('SEC-035 when the payload is %s (correctly signed), then 401', async (_n, bytes) => {
    await expectRefused(signRaw(rs1, header, new Uint8Array(bytes), 'RS256'), 'payload_not_json')
  })

  it.each([
    ['[]', '[]'],
    ['"str"', '"str"'],
    ['null', 'null'],
    ['123', '123'],
  ])('SEC-045 when the signed payload is %s, then 401', async (_n, text) => {
    await expectRefused(signRaw(rs1, header, text, 'RS256'), 'payload_not_object')
  })

  it.each([
    ['a + in a segment', (t: string) => t.replace(/-|_/, '+'), 'malformed_bearer'],
    ['= padding', (t: string) => `${t}=`, 'malformed_bearer'],
    ['a space inside', (t: string) => `${t.slice(0, 20)} ${t.slice(20)}`, 'malformed_bearer'],
    ['a newline inside', (t: string) => `${t.slice(0, 20)}\n${t.slice(20)}`, 'malformed_bearer'],
  ])('SEC-037 when the token has %s, then 401', async (_n, mangle, reason) => {
    const token = await mintToken(rs1, good({ sub: 'a-subject-with-dash_and_underscore-~~~???' }))
    expect(token).toMatch(/[-_]/)
    await expectRefused(mangle(token), reason)
  })

  it('SEC-037 when the signature is re-encoded with different trailing bits (same bytes), then 401', async () => {
    const token = await mintToken(rs1, good())
    const last = token.at(-1) ?? ''
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    // RS256 signatures are 256 bytes: 342 characters whose last carries 4 unused bits.
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? ''
    const mangled = token.slice(0, -1) + sibling
    expect(Buffer.from(mangled.split('.')[2] ?? '', 'base64url')).toEqual(
      Buffer.from(token.split('.')[2] ?? '', 'base64url'),
    )
    await expectRefused(mangled, 'non_canonical_base64url')
    await expectAccepted(token)
  })

  it('SEC-011 when crit names an unknown extension, then 401', async () => {
    const token = signRaw(rs1, { ...header, crit: ['exp2'], exp2: 1 }, good(), 'RS256')
    await expectRefused(token, /^ERR_JOSE_NOT_SUPPORTED$|^ERR_JWS_INVALID$/, { corp: 0 })
  })

  it.each([
    ['empty', { crit: [] }],
    ['repeated', { crit: ['rs', 'rs'], rs: 1 }],
    ['b64 false', { crit: ['b64'], b64: false }],
  ])('SEC-011 when crit is %s, then 401', async (_n, extra) => {
    const err = await rejectionOf(
      verifier.verify(bearer(signRaw(rs1, { ...header, ...extra }, good(), 'RS256'))),
    )
    expectInvalidToken(err, { reason: /^ERR_/ })
  })
})

describe('SEC-046 sub', () => {
  it('when sub is missing, then 401', async () => {
    await expectRefused(
      await mintToken(rs1, good({ sub: undefined })),
      'ERR_JWT_CLAIM_VALIDATION_FAILED:sub:missing',
      {
        corp: 1,
      },
    )
  })

  it.each([
    ['empty', ''],
    ['blank', ' '],
    ['numeric', 123],
    ['an array', ['alice']],
    ['an object', {}],
    ['null', null],
  ])('when sub is %s, then 401', async (_n, sub) => {
    await expectRefused(await mintToken(rs1, good({ sub })), 'sub_invalid', { corp: 1 })
  })
})

describe('SEC-047 the Authorization header, design §6.1', () => {
  it.each([
    ['lower-case bearer', 'bearer'],
    ['upper-case BEARER', 'BEARER'],
    ['mixed-case bEaReR', 'bEaReR'],
  ])('when the scheme is %s, then accepted (case-insensitive)', async (_n, scheme) => {
    await expectAccepted([`${scheme} ${await mintToken(rs1, good())}`])
  })

  it.each([
    ['two spaces', (t: string) => `Bearer  ${t}`, 'malformed_bearer', true],
    ['a tab', (t: string) => `Bearer\t${t}`, 'not_bearer', false],
    ['a trailing word', (t: string) => `Bearer ${t} x`, 'malformed_bearer', true],
    ['no token', () => 'Bearer', 'empty_bearer', true],
    ['an empty token', () => 'Bearer ', 'empty_bearer', true],
    ['the Basic scheme', (t: string) => `Basic ${t}`, 'not_bearer', false],
    ['no scheme', (t: string) => t, 'not_bearer', false],
    ['an empty value', () => '', 'not_bearer', false],
  ])('when the header has %s, then 401', async (_n, build, reason, presented) => {
    const err = await rejectionOf(verifier.verify([build(await mintToken(rs1, good()))]))
    expectInvalidToken(err, { reason, presented })
    expect(corp.total()).toBe(0)
  })

  it('when two Authorization values are given (even two good ones), then 401', async () => {
    const token = await mintToken(rs1, good())
    await expectRefused([`Bearer ${token}`, `Bearer ${token}`], 'duplicate_authorization')
    await expectAccepted([`Bearer ${token}`])
  })

  it.each([
    ['undefined', undefined],
    ['no values', []],
  ])('when the header is absent (%s), then 401 without error="invalid_token"', async (_n, values) => {
    expectInvalidToken(await rejectionOf(verifier.verify(values)), {
      reason: 'no_authorization',
      presented: false,
    })
  })
})

describe('SEC-042 size', () => {
  it('when a validly signed token is just over 8 KiB, then 401 on size; just under, accepted', async () => {
    let under: string | undefined
    let over: string | undefined
    // The token grows by 1-2 characters per pad byte: walk a bounded range across the limit.
    for (let pad = 5500; pad < 6000 && over === undefined; pad += 1) {
      const token = await mintToken(rs1, good({ pad: 'x'.repeat(pad) }))
      if (token.length <= 8192) under = token
      else over = token
    }
    expect(under?.length).toBeGreaterThan(8188)
    expect(over?.length).toBeLessThan(8196)
    await expectRefused(over ?? '', 'token_too_large')
    await expectAccepted(under ?? '')
  })

  it('when the token is far over 8 KiB, then 401 before anything else', async () => {
    await expectRefused(await mintToken(rs1, oversizedClaims(good(), 64 * 1024)), 'token_too_large')
  })
})
