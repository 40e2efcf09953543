// ACS3-HMAC-SHA256 signature verification (protocol reference §1.3-1.4), as the SDK's getAuthorization computes it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { StsCall } from './call.ts'

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256'

/** The parts of an `Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…` header. */
export interface Acs3Authorization {
  accessKeyId: string
  signedHeaders: string[]
  signature: string
}

const AUTHORIZATION =
  /^ACS3-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/

/** Parses the Authorization header; undefined when it is not a well-formed ACS3-HMAC-SHA256 one. */
export function parseAcs3Authorization(header: string): Acs3Authorization | undefined {
  const m = AUTHORIZATION.exec(header.trim())
  if (!m) return undefined
  const [, accessKeyId, signedHeaders, signature] = m
  if (!accessKeyId || !signedHeaders || !signature) return undefined
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature }
}

/** RFC 3986 encoding: encodeURIComponent plus `! ' ( ) *`, as the SDK's `encode`. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * Headers a client must sign: the SDK signs host, content-type and every x-acs-* header it sends,
 * so an unsigned one of those is refused rather than trusted.
 */
export function unsignedHeaders(call: StsCall, signedHeaders: readonly string[]): string[] {
  const signed = new Set(signedHeaders)
  return Object.keys(call.headers).filter(
    (name) =>
      (name === 'host' || name === 'content-type' || name.startsWith('x-acs-')) &&
      call.headers[name] !== undefined &&
      !signed.has(name),
  )
}

/** The canonical request and the string to sign for `call` over `signedHeaders`. */
export function acs3StringToSign(
  call: StsCall,
  signedHeaders: readonly string[],
): { canonicalRequest: string; stringToSign: string } {
  // The SDK signs the decoded values re-encoded, not the bytes on the wire (querystring leaves !'()* bare).
  const canonicalQuery = [...call.query]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&')
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(call.headers[h] ?? '').trim()}\n`).join('')
  const canonicalRequest = [
    call.method,
    call.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    call.headers['x-acs-content-sha256'] ?? '',
  ].join('\n')
  return { canonicalRequest, stringToSign: `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}` }
}

/** hex(HMAC-SHA256(secret, stringToSign)). */
export function acs3Signature(stringToSign: string, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex')
}

/**
 * True when `auth.signature` signs `call` with `secret` and `x-acs-content-sha256` is the hash of the
 * body actually received. Constant-time comparison.
 */
export function verifyAcs3Signature(
  call: StsCall,
  auth: Acs3Authorization,
  secret: string,
): { ok: boolean; stringToSign: string } {
  const { stringToSign } = acs3StringToSign(call, auth.signedHeaders)
  if (call.headers['x-acs-content-sha256'] !== sha256Hex(call.body)) return { ok: false, stringToSign }
  const expected = Buffer.from(acs3Signature(stringToSign, secret))
  const given = Buffer.from(auth.signature)
  return { ok: expected.length === given.length && timingSafeEqual(expected, given), stringToSign }
}
