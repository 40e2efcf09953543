// OSS signature V4 (`OSS4-HMAC-SHA256`): the Authorization header ali-oss sends with authorizationV4, and presigned URLs.
import { createHash, createHmac } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { header, type QueryParam } from './request.ts'
import { SIGNED_SUBRESOURCES, signaturesEqual } from './signature-v1.ts'

export const V4_ALGORITHM = 'OSS4-HMAC-SHA256'

/** The credential scope `<AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request`, parsed. */
export interface V4Credential {
  accessKeyId: string
  date: string
  region: string
}

export interface V4Authorization extends V4Credential {
  /** Lower-cased extra signed header names (beyond Content-Type, Content-MD5 and x-oss-*). */
  additionalHeaders: string[]
  signature: string
}

/** Parses `<AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request`, or null. */
export function parseV4Credential(value: string): V4Credential | null {
  const m = /^([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/oss\/aliyun_v4_request$/.exec(value)
  return m?.[1] && m[2] && m[3] ? { accessKeyId: m[1], date: m[2], region: m[3] } : null
}

/** Parses `OSS4-HMAC-SHA256 Credential=…,AdditionalHeaders=…,Signature=<hex>`, or null when malformed. */
export function parseV4Authorization(value: string): V4Authorization | null {
  if (!value.startsWith(`${V4_ALGORITHM} `)) return null
  const fields = new Map<string, string>()
  for (const part of value.slice(V4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq === -1) return null
    const name = part.slice(0, eq).trim()
    if (fields.has(name)) return null
    fields.set(name, part.slice(eq + 1).trim())
  }
  const credential = parseV4Credential(fields.get('Credential') ?? '')
  const signature = fields.get('Signature') ?? ''
  if (!credential || !/^[0-9a-f]{64}$/.test(signature)) return null
  const extra = fields.get('AdditionalHeaders')
  return {
    ...credential,
    additionalHeaders: extra ? extra.split(';').map((h) => h.trim().toLowerCase()) : [],
    signature,
  }
}

/** RFC 3986 encoding, as ali-oss's encodeString: encodeURIComponent plus `!'()*`. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

export interface V4Input {
  method: string
  /** Bucket name or access point alias as addressed. */
  name: string
  key: string | null
  /** The parameters that are signed (a presigned URL's without `x-oss-signature`). */
  query: readonly QueryParam[]
  headers: IncomingHttpHeaders
  additionalHeaders: readonly string[]
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The canonical query strings the signature may have been computed over. OSS documents a byte-order
 * sort with an empty value written as the bare name; ali-oss 6.23 sorts with `localeCompare` and
 * writes an empty non-sub-resource value as `name=`. Each candidate is a function of the request
 * alone, so accepting either widens nothing.
 */
function canonicalQueries(query: readonly QueryParam[]): string[] {
  const line = (order: (a: QueryParam, b: QueryParam) => number, bare: (p: QueryParam) => boolean) =>
    [...query]
      .sort(order)
      .map((p) => (bare(p) ? encodeRfc3986(p.name) : `${encodeRfc3986(p.name)}=${encodeRfc3986(p.value)}`))
      .join('&')
  const spec = (p: QueryParam) => p.value === ''
  const aliOss = (p: QueryParam) => p.value === '' && SIGNED_SUBRESOURCES.has(p.name)
  const bytes = (a: QueryParam, b: QueryParam) => byteOrder(encodeRfc3986(a.name), encodeRfc3986(b.name))
  const locale = (a: QueryParam, b: QueryParam) => a.name.localeCompare(b.name)
  return [...new Set([line(bytes, spec), line(locale, aliOss), line(bytes, aliOss), line(locale, spec)])]
}

/** The canonical requests a V4 signature may cover (see canonicalQueries), the first being OSS's own. */
export function v4CanonicalRequests(input: V4Input): string[] {
  const uri = encodeRfc3986(`/${input.name}/${input.key ?? ''}`).replace(/%2F/g, '/')
  const names = new Set(input.additionalHeaders)
  for (const name of Object.keys(input.headers))
    if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-')) names.add(name)
  const headers = [...names]
    .sort(byteOrder)
    .map((name) => `${name}:${String(header(input.headers, name) ?? '').trim()}\n`)
    .join('')
  const payload = header(input.headers, 'x-oss-content-sha256') ?? 'UNSIGNED-PAYLOAD'
  return canonicalQueries(input.query).map((query) =>
    [input.method.toUpperCase(), uri, query, headers, input.additionalHeaders.join(';'), payload].join('\n'),
  )
}

/** The V4 string to sign for a canonical request. `timestamp` is `yyyymmddTHHMMSSZ`. */
export function v4StringToSign(timestamp: string, region: string, canonicalRequest: string): string {
  return [
    V4_ALGORITHM,
    timestamp,
    `${timestamp.slice(0, 8)}/${region}/oss/aliyun_v4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
}

/** Hex HMAC-SHA256 with the key derived from `aliyun_v4<secret>`, the date, the region, `oss`, `aliyun_v4_request`. */
export function v4Signature(secret: string, date: string, region: string, stringToSign: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()
  const signingKey = hmac(hmac(hmac(hmac(`aliyun_v4${secret}`, date), region), 'oss'), 'aliyun_v4_request')
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex')
}

/** True when `signature` matches one of the canonical forms of the request. */
export function verifyV4(
  input: V4Input,
  credential: V4Credential,
  timestamp: string,
  secret: string,
  signature: string,
): boolean {
  return v4CanonicalRequests(input).some((canonical) =>
    signaturesEqual(
      signature,
      v4Signature(
        secret,
        credential.date,
        credential.region,
        v4StringToSign(timestamp, credential.region, canonical),
      ),
    ),
  )
}
