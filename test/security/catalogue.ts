// The case catalogue of security-cases.md §2: one record per SEC id; data-driven cases carry their requests.
import { randomBytes } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { expect as expect_ } from 'vitest'
import { cpuTimedAsync } from '../fixtures/cpu-time.ts'
import {
  algNone,
  b64u,
  ecdsaOrder,
  ecdsaZero,
  es256Der,
  hs256,
  jweShaped,
  publicKeyAsSecrets,
  signRaw,
  truncateSignature,
  withKeyReference,
  withSignatureOf,
} from '../fixtures/forge.ts'
import { mintToken } from '../fixtures/issuer.ts'
import type { Probe, Refusal, Spec } from '../fixtures/refusals.ts'
import { expectedDenial } from './denial.ts'
import { AT_CORP, ED, type World } from './world.ts'

export type Group = 'jwt' | 'template' | 'http' | 'upstream' | 'secrets' | 'dos'

/** The test file of each group (§4.1). */
export const GROUP_FILES: Record<Group, string> = {
  jwt: 'jwt.test.ts',
  template: 'template.test.ts',
  http: 'http.test.ts',
  upstream: 'upstream.test.ts',
  secrets: 'secrets.test.ts',
  dos: 'dos.test.ts',
}

export interface CaseRecord {
  id: string
  group: Group
  title: string
  /**
   * The hostile requests by variant name, each run against the shared app and checked with
   * expectRefused. Absent for cases that need their own app, faults, clock or load: those have a
   * hand-written `it` in the group's file whose title starts with the id (the sync test checks it).
   */
  build?: (w: World) => Promise<Record<string, Spec>>
  expect?: Refusal | ((variant: string) => Refusal)
  /** More assertions on each refused variant (e.g. the audit reason, timing). */
  check?: (probe: Probe, variant: string) => void | Promise<void>
  /** The positive twin(s): the same request without the hostile element. Default: a good corp token. */
  twin?: (w: World) => Promise<Spec[]>
}

const r401: Refusal = { status: 401, code: 'invalid_token' }
const r401fetch: Refusal = { status: 401, code: 'invalid_token', jwks: { max: 1 } }
const r403: Refusal = { status: 403, code: 'access_denied' }
const r400: Refusal = { status: 400, code: 'invalid_request' }

/** A good corp token for alice, POSTed with `body`. */
export async function goodSpec(
  w: World,
  body: unknown = {},
  claims: Record<string, unknown> = {},
): Promise<Spec> {
  return { method: 'POST', token: await w.sign(w.good(claims)), body }
}

const tokens = async (entries: [string, string | Promise<string>][]): Promise<Record<string, Spec>> => {
  const out: Record<string, Spec> = {}
  for (const [name, token] of entries) out[name] = { method: 'POST', token: await token, body: {} }
  return out
}

/** A hostile `sub` (or claim) in an otherwise good, validly signed token. */
const claimCases = async (
  w: World,
  values: unknown[],
  claim: (value: unknown) => Record<string, unknown> = (sub) => ({ sub }),
): Promise<Record<string, Spec>> => {
  const out: Record<string, Spec> = {}
  for (const value of values) {
    const secrets = typeof value === 'string' ? [value] : []
    out[JSON.stringify(value)] = {
      method: 'POST',
      token: await w.sign(w.good(claim(value))),
      body: {},
      secrets,
    }
  }
  return out
}

const rs = (w: World, header: string | Record<string, unknown>, payload: string | JWTPayload) =>
  signRaw(w.keys.rs1, header, payload, 'RS256')

const claimUnusable =
  (claim: string) =>
  (probe: Probe): void => {
    expectedDenial(probe, 'claim_unusable', claim)
  }

export const CATALOGUE: readonly CaseRecord[] = [
  // ---------------------------------------------------------------- 2a. JWT attacks
  {
    id: 'SEC-001',
    group: 'jwt',
    title: 'alg none with an empty signature is refused before key lookup',
    build: async (w) => tokens([['h.p.', algNone(w.good())]]),
    expect: r401,
  },
  {
    id: 'SEC-002',
    group: 'jwt',
    title:
      'alg spellings of none, empty, missing, 0, a list or null are refused with a valid RS256 signature kept',
    build: async (w) => {
      const algs: [string, unknown][] = [
        ['None', 'None'],
        ['NONE', 'NONE'],
        ['noNE', 'noNE'],
        ['empty', ''],
        ['missing', undefined],
        ['zero', 0],
        ['list', ['RS256']],
        ['null', null],
      ]
      return tokens(
        algs.map(([name, alg]) => {
          const header: Record<string, unknown> = { kid: 'rs1', typ: 'JWT' }
          if (alg !== undefined) header['alg'] = alg
          return [name, rs(w, header, w.good())]
        }),
      )
    },
    expect: r401,
  },
  {
    id: 'SEC-003',
    group: 'jwt',
    title: 'HS256 keyed with the issuer RSA public key in every form is refused',
    build: async (w) => {
      const secrets = await publicKeyAsSecrets(w.keys.rs1)
      return tokens(
        Object.entries(secrets).map(([name, secret]) => [name, hs256({ kid: 'rs1' }, w.good(), secret)]),
      )
    },
    expect: r401,
  },
  {
    id: 'SEC-005',
    group: 'jwt',
    title: 'a token rs1 signed correctly under PS256 or RS512 (not in the allowed list) is refused',
    build: async (w) =>
      tokens(
        (['PS256', 'RS512'] as const).map((alg) => [
          alg,
          signRaw(w.keys.rs1, { alg, kid: 'rs1', typ: 'JWT' }, w.good(), alg),
        ]),
      ),
    expect: r401,
  },
  {
    id: 'SEC-006',
    group: 'jwt',
    title: 'an alg that does not fit the kid key type (ES256 on rs1, RS256 on es1) is refused',
    build: async (w) =>
      tokens([
        ['ES256 kid rs1', signRaw(w.keys.es1, { alg: 'ES256', kid: 'rs1', typ: 'JWT' }, w.good(), 'ES256')],
        ['RS256 kid es1', rs(w, { alg: 'RS256', kid: 'es1', typ: 'JWT' }, w.good())],
      ]),
    expect: r401fetch,
  },
  {
    id: 'SEC-007',
    group: 'jwt',
    title: 'hostile kids signed by kE are refused with at most one JWKS fetch and never logged raw',
    build: async (w) => {
      const kids: unknown[] = [
        '../../../../dev/null',
        '/proc/self/environ',
        "' OR '1'='1",
        "rs1' --",
        'http://127.0.0.1:9/x',
        '$(id)',
        'k'.repeat(10 * 1024),
        'rs1\u0000',
        123,
        { $ne: null },
      ]
      const out: Record<string, Spec> = {}
      for (const kid of kids) {
        const token = await mintToken(w.keys.attacker, w.good(), { kid })
        out[JSON.stringify(kid).slice(0, 40)] = {
          method: 'POST',
          token,
          body: {},
          secrets: typeof kid === 'string' ? [kid] : [JSON.stringify(kid)],
        }
      }
      return out
    },
    expect: r401fetch,
  },
  {
    id: 'SEC-009',
    group: 'jwt',
    title: 'x5u to the attacker and an x5c chain are refused and the attacker host gets no request',
    build: async (w) =>
      tokens([
        ['x5u', withKeyReference('x5u', w.keys.attacker, w.good(), `${w.evil.url}/cert.pem`)],
        ['jku', withKeyReference('jku', w.keys.attacker, w.good(), w.evil.jwksUri)],
        [
          'x5c',
          mintToken(w.keys.attacker, w.good(), { x5c: [randomBytes(600).toString('base64')], kid: 'rs1' }),
        ],
      ]),
    expect: r401fetch,
  },
  {
    id: 'SEC-010',
    group: 'jwt',
    title: 'a header-embedded jwk of kE (with and without kid rs1) is never used as the key',
    build: async (w) =>
      tokens([
        ['jwk', withKeyReference('jwk', w.keys.attacker, w.good(), '')],
        ['jwk kid rs1', withKeyReference('jwk', w.keys.attacker, w.good(), '', 'rs1')],
      ]),
    expect: r401fetch,
  },
  {
    id: 'SEC-011',
    group: 'jwt',
    title: 'crit with an unknown extension, empty, repeated or b64:false is refused on a valid signature',
    build: async (w) => {
      const base = { alg: 'RS256', kid: 'rs1', typ: 'JWT' }
      return tokens([
        ['exp2', rs(w, { ...base, crit: ['exp2'], exp2: 1 }, w.good())],
        ['empty', rs(w, { ...base, crit: [] }, w.good())],
        ['repeated', rs(w, { ...base, crit: ['rs', 'rs'], rs: 1 }, w.good())],
        ['b64 false', rs(w, { ...base, crit: ['b64'], b64: false }, w.good())],
      ])
    },
    expect: r401,
  },
  {
    id: 'SEC-013',
    group: 'jwt',
    title: 'nbf 31 s ahead is refused, 30 s ahead is accepted (tolerance 30 s, frozen clock)',
  },
  {
    id: 'SEC-014',
    group: 'jwt',
    title: 'iat 31 s ahead is refused and 30 s ahead accepted, with and without maxTokenAgeSeconds',
  },
  {
    id: 'SEC-015',
    group: 'jwt',
    title: 'exp missing or not a number is refused',
    build: async (w) =>
      tokens([
        ['missing', w.sign(w.good({ exp: undefined }))],
        ['string', rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, w.good({ exp: '9999999999' }))],
        ['null', rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, w.good({ exp: null }))],
        ['true', rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, w.good({ exp: true }))],
        ['[1]', rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, w.good({ exp: [1] }))],
      ]),
    expect: r401,
  },
  { id: 'SEC-017', group: 'jwt', title: 'clockToleranceSeconds outside 0..300 integers is refused at load' },
  {
    id: 'SEC-018',
    group: 'jwt',
    title: 'an unconfigured iss is refused before any I/O (no JWKS, no discovery)',
    build: async (w) => tokens([['evil', w.sign(w.good({}, 'https://evil.example/'))]]),
    expect: r401,
  },
  {
    id: 'SEC-019',
    group: 'jwt',
    title: 'iss near-misses are refused with no fetch (no case folding, no normalisation)',
    build: async (w) =>
      tokens(
        [
          'https://id.example.test',
          'HTTPS://ID.example.test/',
          'https://id.example.test/ ',
          'https://id.example.test/%2e/',
          'https://\u0456d.example.test/',
        ].map((iss) => [iss, w.sign(w.good({}, iss))]),
      ),
    expect: r401,
  },
  {
    id: 'SEC-021',
    group: 'jwt',
    title: 'aud other, missing, empty, [], near-misses and case variants are refused',
    build: async (w) =>
      tokens(
        (
          [
            ['other', 'other'],
            ['missing', undefined],
            ['empty', ''],
            ['[]', []],
            ['x', ['sts-vend-x']],
            ['space', ' sts-vend'],
            ['upper', 'STS-VEND'],
          ] as const
        ).map(([name, aud]) => [name, w.sign(w.good({ aud }))]),
      ),
    expect: r401,
  },
  {
    id: 'SEC-022',
    group: 'jwt',
    title: 'aud arrays with non-string members are refused; with an extra audience accepted (RFC 7519)',
    build: async (w) =>
      tokens([
        ['7', w.sign(w.good({ aud: ['sts-vend', 7] }))],
        ['{}', w.sign(w.good({ aud: ['sts-vend', {}] }))],
      ]),
    expect: r401,
    twin: async (w) => [await goodSpec(w, {}, { aud: ['sts-vend', 'other'] })],
  },
  {
    id: 'SEC-023',
    group: 'jwt',
    title:
      'an issuer requiring at+jwt refuses JWT, secevent+jwt, logout+jwt and missing typ; accepts application/at+jwt',
    build: async (w) =>
      tokens(
        (
          [
            ['JWT', 'JWT'],
            ['secevent', 'secevent+jwt'],
            ['logout', 'logout+jwt'],
            ['missing', undefined],
          ] as const
        ).map(([name, typ]) => [name, w.sign(w.good({}, AT_CORP), { typ })]),
      ),
    expect: r401fetch,
    twin: async (w) => [
      { method: 'POST', body: {}, token: await w.sign(w.good({}, AT_CORP), { typ: 'application/at+jwt' }) },
    ],
  },
  {
    id: 'SEC-025',
    group: 'jwt',
    title:
      "a corp token signed with partner's rs1, or naming a kid only partner has, is refused; partner JWKS untouched",
    build: async (w) =>
      tokens([
        ['partner rs1', mintToken(w.keys.partnerRs1, w.good())],
        ['partner-only kid', mintToken(w.keys.partnerOnly, w.good())],
      ]),
    expect: r401fetch,
    check: (probe) => expect_(probe.world.partner.total() - probe.before.stubs.partner).toBe(0),
  },
  { id: 'SEC-026', group: 'jwt', title: 'a partner token for sub alice never matches a corp rule' },
  { id: 'SEC-027', group: 'jwt', title: '1,000 random-kid tokens in 10 s cause at most 2 JWKS fetches' },
  {
    id: 'SEC-029',
    group: 'jwt',
    title: 'rotation rs1 to rs2 works without restart; removed rs1 is refused after cacheMaxAge',
  },
  {
    id: 'SEC-030',
    group: 'jwt',
    title: 'a hostile JWKS answer leaves the issuer not ready and its tokens refused',
  },
  {
    id: 'SEC-031',
    group: 'jwt',
    title: 'a discovery document naming another issuer or an http jwks_uri is refused',
  },
  { id: 'SEC-033', group: 'jwt', title: 'a claim nested 1,000 deep is no 500 and is never logged whole' },
  {
    id: 'SEC-034',
    group: 'jwt',
    title: 'duplicate JSON keys in the header or the signed payload are refused',
    build: async (w) => {
      const payload = JSON.stringify(w.good()).replace(/^\{/, '{"sub":"admin",')
      return tokens([
        ['header alg twice', rs(w, '{"alg":"RS256","kid":"rs1","alg":"none"}', w.good())],
        ['payload sub twice', rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, payload)],
      ])
    },
    expect: r401,
  },
  {
    id: 'SEC-035',
    group: 'jwt',
    title: 'invalid UTF-8 and UTF-16LE-with-BOM payloads are refused though correctly signed',
    build: async (w) => {
      const json = JSON.stringify(w.good({ sub: 'al\u0001ce' }))
      const utf8 = Buffer.from(json, 'utf8')
      const at = utf8.indexOf(1)
      const invalid = Buffer.concat([utf8.subarray(0, at), Buffer.from([0xc3, 0x28]), utf8.subarray(at + 1)])
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')])
      const header = { alg: 'RS256', kid: 'rs1', typ: 'JWT' }
      return tokens([
        ['invalid utf-8', signRaw(w.keys.rs1, header, invalid, 'RS256')],
        ['utf-16le bom', signRaw(w.keys.rs1, header, utf16, 'RS256')],
      ])
    },
    expect: r401,
  },
  {
    id: 'SEC-037',
    group: 'jwt',
    title: 'non-canonical base64url (+ and /, padding, whitespace, other trailing bits) is refused',
    build: async (w) => {
      const token = await w.sign()
      const [h, p, s] = token.split('.') as [string, string, string]
      const std = Buffer.from(s, 'base64url').toString('base64')
      // Re-encode the signature's last character with different low bits: the same bytes decode.
      const last = s.at(-1) ?? 'A'
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const index = alphabet.indexOf(last)
      const bits = s.length % 4 === 2 ? 4 : 2
      const mangled = `${h}.${p}.${s.slice(0, -1)}${alphabet[(index & ~((1 << bits) - 1)) | ((index + 1) & ((1 << bits) - 1))]}`
      return {
        'std alphabet': { method: 'POST', body: {}, token: `${h}.${p}.${std.replace(/=+$/, '')}` },
        padding: { method: 'POST', body: {}, token: `${h}.${p}.${s}==` },
        space: { method: 'POST', body: {}, token: `${h}.${p} .${s}` },
        'trailing bits': { method: 'POST', body: {}, token: mangled },
      }
    },
    expect: r401,
  },
  {
    id: 'SEC-038',
    group: 'jwt',
    title: 'missing, foreign, one-byte and truncated signatures are refused',
    build: async (w) => {
      const token = await w.sign()
      const other = await w.sign(w.good({ sub: 'bob' }))
      const input = token.slice(0, token.lastIndexOf('.'))
      return tokens([
        ['h.p.', `${input}.`],
        ['h.p', input],
        ['foreign sig', withSignatureOf(token, other)],
        ['1-byte sig', `${input}.${b64u(new Uint8Array([7]))}`],
        ['minus last char', truncateSignature(token)],
      ])
    },
    expect: r401,
  },
  {
    id: 'SEC-039',
    group: 'jwt',
    title: 'ES256 psychic signatures (r=s=0, r=s=n) and DER signatures are refused',
    build: async (w) =>
      tokens([
        ['r=s=0', ecdsaZero({ kid: 'es1' }, w.good())],
        ['r=s=n', ecdsaOrder({ kid: 'es1' }, w.good())],
        ['DER', es256Der(w.keys.es1, {}, w.good())],
      ]),
    expect: r401,
  },
  {
    id: 'SEC-041',
    group: 'jwt',
    title:
      'EdDSA where only RS256/ES256 are allowed, and an Ed448 key where EdDSA is, are refused; Ed25519 accepted',
    build: async (w) =>
      tokens([
        ['EdDSA at corp', mintToken(w.keys.ed25519, w.good())],
        ['Ed448 at ed', w.signEd448({}, w.good({}, ED))],
      ]),
    expect: r401fetch,
    twin: async (w) => [{ method: 'POST', body: {}, token: await mintToken(w.keys.ed25519, w.good({}, ED)) }],
  },
  {
    id: 'SEC-042',
    group: 'jwt',
    title: 'JWE (RSA-OAEP, PBES2 p2c 2^31-1, zip DEF) is refused in under 10 ms without decrypting',
    build: async (w) => {
      const seg = (n: number) => randomBytes(n).toString('base64url')
      const pbes2 = `${b64u({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2c: 2147483647, p2s: seg(16) })}.${seg(24)}.${seg(12)}.${seg(64)}.${seg(16)}`
      const zip = `${b64u({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF', kid: 'rs1' })}.${seg(256)}.${seg(12)}.${seg(2048)}.${seg(16)}`
      return tokens([
        ['RSA-OAEP', jweShaped(w.keys.rs1, w.good())],
        ['unsigned inside', jweShaped(w.keys.rs1, algNone(w.good()))],
        ['PBES2', pbes2],
        ['zip', zip],
      ])
    },
    expect: r401,
    check: async (probe) => {
      // CPU time: decrypting, deriving or inflating would cost it; a loaded runner's clock would not.
      const { ms } = await cpuTimedAsync(() =>
        probe.sec.adapters.deps.verifier.verify([`Bearer ${probe.spec.token}`]).catch(() => undefined),
      )
      expect_(ms).toBeLessThan(500)
    },
  },
  {
    id: 'SEC-043',
    group: 'jwt',
    title: 'a flattened JSON JWS as the bearer value is refused',
    build: async (w) => {
      const [h, p, s] = (await w.sign()).split('.')
      const forged = b64u(w.good({ sub: 'admin' }))
      return {
        flattened: {
          method: 'POST',
          body: {},
          authorization: `Bearer ${JSON.stringify({ protected: h, payload: p, signature: s })}`,
        },
        'compact with JSON payload': { method: 'POST', body: {}, token: `${h}.${forged}.${s}` },
      }
    },
    expect: r401,
  },
  {
    id: 'SEC-045',
    group: 'jwt',
    title: 'validly signed payloads that are not objects are refused',
    build: async (w) =>
      tokens(
        ['[]', '"str"', 'null', '123'].map((payload) => [
          payload,
          rs(w, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, payload),
        ]),
      ),
    expect: r401,
  },
  {
    id: 'SEC-046',
    group: 'jwt',
    title: 'sub missing, empty, blank or not a string is refused',
    build: async (w) =>
      tokens(
        (
          [
            ['missing', undefined],
            ['empty', ''],
            ['blank', ' '],
            ['123', 123],
            ['list', ['alice']],
            ['{}', {}],
          ] as const
        ).map(([name, sub]) => [name, w.sign(w.good({ sub }))]),
      ),
    expect: r401,
  },
  {
    id: 'SEC-047',
    group: 'jwt',
    title: 'Authorization scheme, spacing, duplicates and tokens outside the header',
  },

  // ---------------------------------------------------------------- 2b. template injection
  {
    id: 'SEC-049',
    group: 'template',
    title: 'wildcard and regex characters in sub are refused',
    build: (w) => claimCases(w, ['al?ce', 'a[b]', 'a{1,3}', 'a^b']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-050',
    group: 'template',
    title: 'template syntax in sub is refused and never re-expanded',
    build: (w) => claimCases(w, ['${sub}', '${acs:SourceIp}', '{{identity.entity.id}}', '$']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-051',
    group: 'template',
    title: 'JSON-breaking quotes in sub are refused',
    build: (w) =>
      claimCases(w, [
        'alice","Resource":"*',
        'alice"}],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*',
      ]),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-053',
    group: 'template',
    title: 'path traversal and separators in sub are refused, a..b included',
    build: (w) =>
      claimCases(w, ['../bob', 'alice/../bob', '..', '.', 'a/b', '/', 'alice/', 'a..b', 'alice..']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-054',
    group: 'template',
    title: 'percent-encoded traversal and NUL in sub are refused',
    build: (w) => claimCases(w, ['%2e%2e%2fbob', 'alice%2F..', '%00']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-055',
    group: 'template',
    title: 'homoglyph slashes and letters in sub are refused (non-ASCII)',
    build: (w) => claimCases(w, ['alice\uff0fbob', 'alice\u2215bob', '\u0430lice']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-057',
    group: 'template',
    title: 'invisible and bidi characters in sub are refused',
    build: (w) => claimCases(w, ['ali\u200Bce', '\u202Eecila', '\uFEFFalice', 'alice\u00A0']),
    expect: r403,
    check: claimUnusable('sub'),
  },
  {
    id: 'SEC-058',
    group: 'template',
    title: 'control characters in sub are refused and the log stays one JSON line per record',
    build: (w) => claimCases(w, ['alice\u0000', 'alice\n', 'alice\r\nX-Injected: 1', 'al\tice', '\t']),
    // A lone tab is a blank sub: 401 before any rule (SEC-046); inside a name it is a 403.
    expect: (variant) => (variant === '"\\t"' ? r401 : r403),
    check: (probe, variant) => {
      if (variant !== '"\\t"') claimUnusable('sub')(probe)
      for (const line of probe.sec.raw.slice(probe.before.line)) expect_(line).not.toMatch(/[\n\r]/)
    },
  },
  {
    id: 'SEC-059',
    group: 'template',
    title: 'sub of 128 characters is accepted, 129 and 100,000 refused in O(1)',
  },
  {
    id: 'SEC-061',
    group: 'template',
    title: 'non-string team claims (list, object, booleans, null) are refused',
    build: (w) =>
      claimCases(w, [['a', 'b'], { toString: 'x' }, true, false, null], (team) => ({
        groups: ['team-app'],
        team,
      })),
    expect: r403,
    check: claimUnusable('team'),
    twin: async (w) => [await goodSpec(w, {}, { groups: ['team-app'], team: 'blue' })],
  },
  {
    id: 'SEC-062',
    group: 'template',
    title: 'numeric claims: 42 renders, negatives, floats, 1e21 and 2^53+1 are refused',
  },
  {
    id: 'SEC-063',
    group: 'template',
    title: 'no case folding: Alice and alice differ; Photo-App does not match photo-app',
  },
  {
    id: 'SEC-065',
    group: 'template',
    title: 'a dotted claim name and a nested path resolve the same way everywhere',
  },
  {
    id: 'SEC-066',
    group: 'template',
    title: 'matches is anchored as a whole; an unbalanced pattern is refused at load',
  },
  {
    id: 'SEC-067',
    group: 'template',
    title: 'catastrophic patterns are refused at load; matching a long claim stays fast',
  },
  {
    id: 'SEC-069',
    group: 'template',
    title: 'worst case 2,049 refused at load, 2,048 starts, a runtime overflow is a 500 with no call',
  },
  {
    id: 'SEC-070',
    group: 'template',
    title: 'the Policy STS receives is byte-identical to the one checked and hashed',
  },
  {
    id: 'SEC-071',
    group: 'template',
    title: 'narrowing outside the grant is 403, malformed narrowing 400; a sub-folder is granted',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const prefix of [
        'users/alice/../bob/',
        'users/alic',
        'users/alicex/',
        'users/alice/*',
        'users/alice',
        'users/ALICE/',
        '/users/alice/x',
        'users/alice//x',
        'users/alice/%2e%2e/',
      ])
        out[prefix] = await goodSpec(w, { prefix })
      return out
    },
    expect: (prefix) => (/\.\.|\*|^\/|\/\/|%/.test(prefix) ? r400 : r403),
    twin: async (w) => [await goodSpec(w, { prefix: 'users/alice/photos/' })],
  },
  {
    id: 'SEC-073',
    group: 'template',
    title: 'asking for a rule the caller does not match, another issuer’s, __proto__ or constructor is 403',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const rule of ['admins', 'partner-users', '__proto__', 'constructor', 'toString'])
        out[rule] = await goodSpec(w, { rule })
      return out
    },
    expect: r403,
    check: (probe) => {
      expectedDenial(probe, 'requested_rule_not_matched')
    },
    twin: async (w) => [await goodSpec(w, { rule: 'app-users' })],
  },
  {
    id: 'SEC-074',
    group: 'template',
    title:
      'durationSeconds out of range or not an integer is 400, never clamped; 900 and the max are granted',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const value of ['899', '43201', '3601', '"3600"', '3600.5', '-1', '1e400', 'null', 'true'])
        out[value] = { ...(await goodSpec(w)), body: `{"durationSeconds":${value}}` }
      return out
    },
    expect: r400,
    twin: async (w) => [
      await goodSpec(w, { durationSeconds: 900 }),
      await goodSpec(w, { durationSeconds: 3600 }),
    ],
  },
  {
    id: 'SEC-075',
    group: 'template',
    title: 'the outgoing RoleSessionName always matches ^[A-Za-z0-9.@_-]{2,64}$',
  },
  {
    id: 'SEC-077',
    group: 'template',
    title:
      'an ExternalId template with a short or disallowed value is 403; a templated roleArn is refused at load',
  },
  { id: 'SEC-078', group: 'template', title: 'a renderer that yields no policy is a 500 with no AssumeRole' },
  {
    id: 'SEC-079',
    group: 'template',
    title: 'simulate and explain give the same decision as credentials; simulate is scoped and can be off',
  },

  // ---------------------------------------------------------------- 2c. HTTP
  { id: 'SEC-081', group: 'http', title: 'bodies over 16 KiB (declared or chunked) are 413 before auth' },
  {
    id: 'SEC-082',
    group: 'http',
    title: 'compressed or encoded bodies are 415 (inflate off)',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const encoding of ['gzip', 'deflate', 'br', 'x-foo'])
        out[encoding] = { ...(await goodSpec(w)), body: '{}', headers: { 'Content-Encoding': encoding } }
      return out
    },
    expect: { status: 415, code: 'unsupported_media_type' },
  },
  {
    id: 'SEC-083',
    group: 'http',
    title: 'non-JSON and non-UTF-8 content types are 415; application/json; charset=utf-8 is granted',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
      ])
        out[type] = {
          ...(await goodSpec(w)),
          body: type.startsWith('application/x') ? 'rule=x' : '{}',
          headers: { 'Content-Type': type },
        }
      return out
    },
    expect: { status: 415, code: 'unsupported_media_type' },
    twin: async (w) => [
      { ...(await goodSpec(w)), body: '{}', headers: { 'Content-Type': 'application/json; charset=utf-8' } },
    ],
  },
  {
    id: 'SEC-085',
    group: 'http',
    title: 'bodies that are not our object, or that carry Policy, roleArn or unknown fields, are 400',
    build: async (w) => {
      const out: Record<string, Spec> = {}
      for (const body of [
        '[]',
        'null',
        '"x"',
        '{"Policy":"{\\"Statement\\":[]}"}',
        '{"policy":{"Statement":[]}}',
        '{"roleArn":"acs:ram::1:role/admin"}',
        '{"unknown":1}',
      ])
        out[body] = { ...(await goodSpec(w)), body }
      return out
    },
    expect: r400,
    check: (probe) => {
      const last = probe.world.emulator.counters.snapshot().last
      if (last) expect_(last.RoleArn).not.toBe('acs:ram::1:role/admin')
    },
  },
  {
    id: 'SEC-086',
    group: 'http',
    title: 'prototype keys in the body or the query are 400 and pollute nothing',
    build: async (w) => {
      const good = await goodSpec(w)
      return {
        'body __proto__': { ...good, body: '{"__proto__":{"access":"read-write-delete","isAdmin":true}}' },
        'body constructor': { ...good, body: '{"constructor":{"prototype":{"x":1}}}' },
        'query __proto__': { ...good, body: undefined, method: 'GET', query: '__proto__[x]=1' },
        'query constructor': {
          ...good,
          body: undefined,
          method: 'GET',
          query: 'constructor[prototype][x]=1',
        },
      }
    },
    expect: r400,
  },
  {
    id: 'SEC-087',
    group: 'http',
    title: 'repeated or bracketed query parameters and query/body disagreement are 400',
    build: async (w) => {
      const good = await goodSpec(w)
      const get = { ...good, body: undefined, method: 'GET' as const }
      return {
        'format twice': { ...get, query: 'format=json&format=appserver' },
        'format[]': { ...get, query: 'format[]=json' },
        'duration twice': { ...get, query: 'durationSeconds=900&durationSeconds=43200' },
        'query vs body': { ...good, query: 'format=json', body: { format: 'aliyun-cli' } },
      }
    },
    expect: r400,
    twin: async (w) => [
      { ...(await goodSpec(w)), body: undefined, method: 'GET', query: 'format=json&durationSeconds=900' },
    ],
  },
  {
    id: 'SEC-089',
    group: 'http',
    title: 'CORS answers only the exact configured origin, never *, never credentials',
  },
  {
    id: 'SEC-090',
    group: 'http',
    title: 'Host and X-Forwarded-Host change no endpoint, redirect or OpenAPI server',
  },
  {
    id: 'SEC-091',
    group: 'http',
    title: 'with trustProxyHops 0 a spoofed X-Forwarded-For neither escapes the limit nor reaches the audit',
  },
  {
    id: 'SEC-093',
    group: 'http',
    title: 'behind a proxy, one IPv6 /56 shares a bucket and IPv4-mapped clients do not',
  },
  {
    id: 'SEC-094',
    group: 'http',
    title: 'sourceIp: request binds to the socket address, /32 or /128, and refuses without one',
  },
  {
    id: 'SEC-095',
    group: 'http',
    title: 'slow headers and bodies are cut by headersTimeout/requestTimeout (bounded: 20 sockets, 2 s)',
  },
  {
    id: 'SEC-097',
    group: 'http',
    title: 'a thrown error is a JSON 500 with no stack, message or X-Powered-By',
  },
  { id: 'SEC-098', group: 'http', title: 'a hostile X-Request-Id is replaced and never logged raw' },
  {
    id: 'SEC-099',
    group: 'http',
    title: 'distinct subjects, kids and paths add no metrics series and no claim values',
  },

  // ---------------------------------------------------------------- 2d. upstream
  {
    id: 'SEC-101',
    group: 'upstream',
    title: 'persistent throttling: 3 calls honouring retry-after, then 503 with Retry-After, nothing cached',
  },
  { id: 'SEC-102', group: 'upstream', title: 'two throttles then success: 200 after exactly 3 calls' },
  {
    id: 'SEC-103',
    group: 'upstream',
    title: 'x-acs-retry-after of an hour: no long sleep, 503 with a capped Retry-After',
  },
  {
    id: 'SEC-105',
    group: 'upstream',
    title: 'a response delayed past the read timeout: bounded total, 503, no URL in the log',
  },
  { id: 'SEC-106', group: 'upstream', title: 'ECONNREFUSED and ECONNRESET: at most 3 calls, 503' },
  {
    id: 'SEC-107',
    group: 'upstream',
    title: 'an unresolvable STS endpoint: 503, /readyz 503, no tight loop',
  },
  {
    id: 'SEC-109',
    group: 'upstream',
    title: 'answers without SecurityToken, with a non-STS key id or an empty secret are 502, not cached',
  },
  {
    id: 'SEC-110',
    group: 'upstream',
    title: 'bad Expiration values are 502; the millisecond form is accepted and re-emitted without ms',
  },
  {
    id: 'SEC-111',
    group: 'upstream',
    title: 'an AssumedRoleUser of another role is 502, not cached, logged at alert level',
  },
  {
    id: 'SEC-113',
    group: 'upstream',
    title: 'the breaker opens after repeated failures, answers fast with no call, probes and closes',
  },
  {
    id: 'SEC-114',
    group: 'upstream',
    title: 'with STS down, near-expiry cached credentials are never served; fresher ones are',
  },
  {
    id: 'SEC-115',
    group: 'upstream',
    title: 'an unresolvable service identity: /readyz 503 and requests 503, errors scrubbed',
  },

  // ---------------------------------------------------------------- 2e. secrets
  {
    id: 'SEC-117',
    group: 'secrets',
    title: 'every format leaves no secret in the log; one issued line with hashes, not the policy',
  },
  {
    id: 'SEC-118',
    group: 'secrets',
    title: 'every STS fault and error code logs no URL, signature, token or policy',
  },
  {
    id: 'SEC-119',
    group: 'secrets',
    title: 'Authorization, Cookie and an access_token query are never logged',
  },
  {
    id: 'SEC-121',
    group: 'secrets',
    title: 'startup, check-config and explain print neither the AK secret nor the Redis password',
  },
  {
    id: 'SEC-122',
    group: 'secrets',
    title: 'five different 401 causes give byte-identical bodies; the cause is in the log only',
  },
  {
    id: 'SEC-123',
    group: 'secrets',
    title: 'every credentials response is no-store, no-cache, nosniff, no-referrer, JSON, without ETag',
  },
  {
    id: 'SEC-125',
    group: 'secrets',
    title: 'vended credentials cannot reach a sibling prefix or list the bucket',
  },
  {
    id: 'SEC-126',
    group: 'secrets',
    title: 'a claim carrying a forged log line adds no credentials.issued line',
  },

  // ---------------------------------------------------------------- 2f. DoS
  {
    id: 'SEC-127',
    group: 'dos',
    title: 'request 301 from one IP is 429 with Retry-After and RateLimit; crypto runs at most 300 times',
  },
  { id: 'SEC-129', group: 'dos', title: 'requests refused at template time consume the per-subject budget' },
  {
    id: 'SEC-130',
    group: 'dos',
    title: 'two instances share one Redis budget; with Redis down requests fail closed 503',
  },
  {
    id: 'SEC-131',
    group: 'dos',
    title: '200 concurrent identical requests on a cold cache make one AssumeRole',
  },
  {
    id: 'SEC-133',
    group: 'dos',
    title: 'cycling narrowing prefixes and durations is bounded by the per-subject budget and the STS cap',
  },
  {
    id: 'SEC-134',
    group: 'dos',
    title:
      'many concurrent misses stay under the STS call cap; the excess is 503 within the 1 s wait (bounded: 200)',
  },
  {
    id: 'SEC-135',
    group: 'dos',
    title: 'random kids from 500 IPs and 20,000 unknown issuers: bounded fetches, flat heap (bounded)',
  },
  {
    id: 'SEC-137',
    group: 'dos',
    title: 'idle keep-alive connections are reclaimed; /healthz unaffected (bounded: 200 sockets, 10 s)',
  },
  {
    id: 'SEC-138',
    group: 'dos',
    title: 'soak with 5 % STS faults: no wrong answer, no crash (bounded: 10 s, c=10)',
  },
]

/** The record of `id`; throws for an unknown id. */
export function caseOf(id: string): CaseRecord {
  const found = CATALOGUE.find((c) => c.id === id)
  if (!found) throw new Error(`${id} is not catalogued`)
  return found
}
