// OSS signature V1: `Authorization: OSS <id>:<base64 HMAC-SHA1>` and presigned URLs (OSSAccessKeyId, Expires, Signature).
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { header, type QueryParam } from './request.ts'

/**
 * The query parameters OSS counts as sub-resources: they, and only they, are part of the
 * canonicalized resource of a V1 signature (OSS "Add signatures to headers", also ali-oss's `subres`).
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl',
  'uploads',
  'location',
  'cors',
  'logging',
  'website',
  'referer',
  'lifecycle',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'img',
  'style',
  'styleName',
  'replication',
  'replicationProgress',
  'replicationLocation',
  'cname',
  'bucketInfo',
  'comp',
  'qos',
  'live',
  'status',
  'vod',
  'startTime',
  'endTime',
  'symlink',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'x-oss-traffic-limit',
  'udf',
  'udfName',
  'udfImage',
  'udfId',
  'udfImageDesc',
  'udfApplication',
  'udfApplicationLog',
  'restore',
  'callback',
  'callback-var',
  'qosInfo',
  'policy',
  'stat',
  'encryption',
  'versions',
  'versioning',
  'versionId',
  'requestPayment',
  'x-oss-request-payer',
  'sequential',
  'inventory',
  'inventoryId',
  'continuation-token',
  'asyncFetch',
  'worm',
  'wormId',
  'wormExtend',
  'accessPoint',
  'accessPointPolicy',
])

/** The parsed `Authorization: OSS <AccessKeyId>:<Signature>` header, or null when it is not that form. */
export function parseV1Authorization(value: string): { accessKeyId: string; signature: string } | null {
  const m = /^OSS ([^\s:]+):(\S+)$/.exec(value)
  return m?.[1] && m[2] ? { accessKeyId: m[1], signature: m[2] } : null
}

/** `/<bucket>/<key>` (or `/<bucket>/`) followed by the sorted signed sub-resources. */
export function canonicalizedResource(
  name: string,
  key: string | null,
  query: readonly QueryParam[],
): string {
  const params = query
    .filter((p) => SIGNED_SUBRESOURCES.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
  const base = `/${name}/${key ?? ''}`
  if (params.length === 0) return base
  return `${base}?${params.map((p) => (p.value === '' ? p.name : `${p.name}=${p.value}`)).join('&')}`
}

/** The `x-oss-*` headers, lower-cased, trimmed and sorted, one `name:value` line each. */
function canonicalizedOssHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${String(header(headers, name) ?? '').trim()}`)
}

/**
 * The V1 string to sign: VERB, Content-MD5, Content-Type, the date (the `x-oss-date` header, else
 * `Date`; for a presigned URL its `Expires`), the `x-oss-*` headers, the canonicalized resource.
 */
export function v1StringToSign(
  method: string,
  headers: IncomingHttpHeaders,
  resource: string,
  expires?: string,
): string {
  return [
    method.toUpperCase(),
    header(headers, 'content-md5') ?? '',
    header(headers, 'content-type') ?? '',
    expires ?? header(headers, 'x-oss-date') ?? header(headers, 'date') ?? '',
    ...canonicalizedOssHeaders(headers),
    resource,
  ].join('\n')
}

/** base64 HMAC-SHA1 of the string to sign with the AccessKey secret. */
export function v1Signature(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(Buffer.from(stringToSign, 'utf8')).digest('base64')
}

/** Compares two signatures in constant time (for equal lengths). */
export function signaturesEqual(provided: string, expected: string): boolean {
  const a = Buffer.from(provided)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
