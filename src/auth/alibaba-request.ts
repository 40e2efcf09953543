// The `Authorization: AlibabaIdentity <base64url JSON>` credential (issue 21, design §14): a signed ACS3
// GetCallerIdentity request, checked here before anything is sent to STS. Pure: no I/O.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { InvalidToken } from '../errors.ts'

/** The Authorization scheme of an Alibaba identity login. */
export const ALIBABA_SCHEME = 'AlibabaIdentity'
/** The signed header that binds a request to one sts-vend audience. */
export const AUDIENCE_HEADER = 'x-acs-sts-vend-audience'
/** Longest accepted credential (the base64url text): larger is 401 before decoding. */
export const MAX_ALIBABA_CREDENTIAL_BYTES = 8 * 1024
/** A signed request is accepted only while its x-acs-date is this close to now (either side). */
export const ALIBABA_WINDOW_MS = 15 * 60 * 1000

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex')
// Headers a signed request may carry; any other name is refused rather than forwarded or dropped.
const UNSIGNED_ALLOWED = new Set(['authorization', 'accept', 'user-agent'])
// Headers the signature must cover: the action, version, date, nonce, body hash, host and audience.
const MUST_SIGN = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
  AUDIENCE_HEADER,
]
const AUTHORIZATION =
  /^ACS3-HMAC-SHA256 Credential=([A-Za-z0-9._-]{1,128}),SignedHeaders=([a-z0-9;-]{1,1024}),Signature=([0-9a-f]{64})$/
const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const NONCE = /^[A-Za-z0-9-]{8,128}$/

const wireSchema = z.strictObject({
  method: z.enum(['POST', 'GET']),
  path: z.literal('/').default('/'),
  query: z.record(z.string(), z.string()).default({}),
  headers: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.string().max(4096)),
  body: z.string().default(''),
})

/** A signed GetCallerIdentity request as the caller built it: forwarded to STS byte for byte. */
export interface SignedIdentityRequest {
  method: 'POST' | 'GET'
  headers: Readonly<Record<string, string>>
}

/** What the checks learnt: the values the nonce store and the issuer choice need. */
export interface CheckedIdentityRequest extends SignedIdentityRequest {
  audience: string
  host: string
  accessKeyId: string
  nonce: string
  signature: string
  signedAt: Date
}

const refused = (reason: string) => new InvalidToken({ presented: true, reason: `alibaba_${reason}` })

/**
 * Decodes `credential` (the text after `AlibabaIdentity `) and checks everything that needs no network:
 * size, shape, an ACS3 Authorization whose SignedHeaders cover every header that steers the request
 * (and the audience), action exactly GetCallerIdentity version 2015-04-01, no query or body parameters
 * (GetCallerIdentity takes none), the body hash of an empty body, a well-formed date and nonce.
 *
 * @throws InvalidToken (401) naming the first failed check in its `reason`.
 */
export function parseAlibabaCredential(credential: string): CheckedIdentityRequest {
  if (credential.length > MAX_ALIBABA_CREDENTIAL_BYTES) throw refused('credential_too_large')
  if (!/^[A-Za-z0-9_-]+$/.test(credential)) throw refused('malformed_credential')
  let wire: z.output<typeof wireSchema>
  try {
    wire = wireSchema.parse(JSON.parse(Buffer.from(credential, 'base64url').toString('utf8')))
  } catch {
    throw refused('malformed_credential')
  }
  if (Object.keys(wire.query).length > 0 || wire.body !== '') throw refused('parameters_not_allowed')
  const headers = wire.headers
  const auth = AUTHORIZATION.exec(headers['authorization'] ?? '')
  if (!auth) throw refused('authorization_not_acs3')
  const [, accessKeyId = '', signedList = '', signature = ''] = auth
  const signed = new Set(signedList.split(';'))
  checkHeaderNames(headers, signed)
  if (headers['x-acs-action'] !== 'GetCallerIdentity') throw refused('action_not_getcalleridentity')
  if (headers['x-acs-version'] !== '2015-04-01') throw refused('version_not_2015_04_01')
  if (headers['x-acs-content-sha256'] !== EMPTY_SHA256) throw refused('body_hash_not_empty')
  const date = headers['x-acs-date'] ?? ''
  const signedAt = new Date(date)
  if (!ACS_DATE.test(date) || Number.isNaN(signedAt.getTime())) throw refused('malformed_date')
  const nonce = headers['x-acs-signature-nonce'] ?? ''
  if (!NONCE.test(nonce)) throw refused('malformed_nonce')
  return {
    method: wire.method,
    headers,
    audience: headers[AUDIENCE_HEADER] ?? '',
    host: (headers['host'] ?? '').toLowerCase(),
    accessKeyId,
    nonce,
    signature,
    signedAt,
  }
}

/** Every header is signed or one of the harmless unsigned ones; every steering header is signed. */
function checkHeaderNames(headers: Readonly<Record<string, string>>, signed: ReadonlySet<string>): void {
  for (const name of MUST_SIGN) {
    if (headers[name] === undefined) throw refused(`missing_${name}`)
    if (!signed.has(name)) throw refused(`unsigned_${name}`)
  }
  for (const name of Object.keys(headers)) {
    if (signed.has(name) || UNSIGNED_ALLOWED.has(name)) continue
    throw refused(
      name.startsWith('x-acs-') || name === 'content-type' ? `unsigned_${name}` : 'header_not_allowed',
    )
  }
  for (const name of signed) if (headers[name] === undefined) throw refused('signed_header_missing')
}

/** True when `signedAt` is within the 15-minute window of `now`, either side. */
export function withinWindow(signedAt: Date, now: Date): boolean {
  return Math.abs(now.getTime() - signedAt.getTime()) <= ALIBABA_WINDOW_MS
}

/** Encodes a signed request as the credential of `Authorization: AlibabaIdentity <credential>`. */
export function encodeAlibabaCredential(request: {
  method: string
  headers: Record<string, string>
}): string {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]))
  return Buffer.from(JSON.stringify({ method: request.method, headers }), 'utf8').toString('base64url')
}
