// The OSS signature builders agree with ali-oss's own signer (an independent implementation) byte for byte.
import { describe, expect, it } from 'vitest'
import type { QueryParam } from '../../../../src/emulator/oss/request.ts'
import { parseTarget } from '../../../../src/emulator/oss/request.ts'
import {
  canonicalizedResource,
  parseV1Authorization,
  v1Signature,
  v1StringToSign,
} from '../../../../src/emulator/oss/signature-v1.ts'
import {
  parseV4Authorization,
  v4CanonicalRequests,
  v4Signature,
  v4StringToSign,
} from '../../../../src/emulator/oss/signature-v4.ts'
import { aliSign } from '../../../fixtures/oss.ts'

const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

/** What the emulator parses from the URL ali-oss builds for these query and sub-resource objects. */
function urlQuery(
  query: Record<string, string | number>,
  subres: Record<string, string | null>,
): QueryParam[] {
  const all = { ...query, ...Object.fromEntries(Object.entries(subres).map(([k, v]) => [k, v ?? ''])) }
  const text = new URLSearchParams(Object.entries(all).map(([k, v]) => [k, String(v)])).toString()
  return parseTarget(`/?${text.replaceAll('+', '%20')}`).query
}

const date = 'Mon, 23 Nov 2026 12:00:00 GMT'
const token = 'CAIStoken+/='

const v1Cases: {
  name: string
  method: string
  key: string | null
  headers: Record<string, string>
  subres: Record<string, string | null>
  query: Record<string, string | number>
}[] = [
  {
    name: 'PutObject with a token and meta',
    method: 'PUT',
    key: 'users/alice/a b+c.txt',
    headers: {
      'x-oss-date': date,
      'x-oss-security-token': token,
      'Content-Type': 'text/plain',
      'Content-MD5': 'XUFAKrxLKna5cZ2REBfFkg==',
      'x-oss-meta-Owner': ' alice ',
    },
    subres: {},
    query: {},
  },
  {
    name: 'ListObjects: prefix and max-keys are not sub-resources',
    method: 'GET',
    key: null,
    headers: { 'x-oss-date': date },
    subres: {},
    query: { prefix: 'users/alice/', delimiter: '/', 'max-keys': 1 },
  },
  {
    name: 'UploadPart: partNumber and uploadId sorted',
    method: 'PUT',
    key: 'users/alice/big.bin',
    headers: { 'x-oss-date': date, 'x-oss-security-token': token },
    subres: { uploadId: 'ABC', partNumber: '2' },
    query: {},
  },
  {
    name: 'InitiateMultipartUpload: a bare sub-resource',
    method: 'POST',
    key: 'k',
    headers: { 'x-oss-date': date },
    subres: { uploads: '' },
    query: {},
  },
  {
    name: 'ListObjectsV2: continuation-token is signed, list-type is not',
    method: 'GET',
    key: null,
    headers: { 'x-oss-date': date },
    subres: { 'continuation-token': 'dXNlcnMv' },
    query: { 'list-type': 2, prefix: 'users/' },
  },
  {
    name: 'GetBucketInfo',
    method: 'GET',
    key: null,
    headers: { 'x-oss-date': date },
    subres: { bucketInfo: '' },
    query: {},
  },
]

describe('OSS V1 signature', () => {
  it.each(v1Cases)('when ali-oss signs $name, then the emulator builds the same string to sign', (c) => {
    const resource = `/examplebucket/${c.key ?? ''}`
    const expected = aliSign.buildCanonicalString(c.method, resource, {
      headers: c.headers,
      parameters: c.subres,
    })
    const query = urlQuery(c.query, c.subres)
    const actual = v1StringToSign(
      c.method,
      lower(c.headers),
      canonicalizedResource('examplebucket', c.key, query),
    )
    expect(actual).toBe(expected)
    expect(v1Signature('secret', actual)).toBe(aliSign.computeSignature('secret', expected))
  })

  it('when a presigned URL carries security-token, then it is part of the resource and Expires is the date', () => {
    const query = urlQuery(
      { OSSAccessKeyId: 'STS.x', Expires: 1800000000, Signature: 'sig' },
      { 'security-token': token },
    )
    const resource = canonicalizedResource('examplebucket', 'a.txt', query)
    expect(resource).toBe(`/examplebucket/a.txt?security-token=${token}`)
    expect(v1StringToSign('GET', {}, resource, '1800000000')).toBe(
      aliSign.buildCanonicalString(
        'GET',
        '/examplebucket/a.txt',
        { headers: {}, parameters: { 'security-token': token } },
        '1800000000',
      ),
    )
  })

  it.each([
    ['OSS STS.abc:c2ln', { accessKeyId: 'STS.abc', signature: 'c2ln' }],
    ['OSS STS.abc:', null],
    ['OSS :sig', null],
    ['OSS4-HMAC-SHA256 Credential=x', null],
    ['oss STS.abc:sig', null],
    ['OSS STS.abc:sig extra', null],
  ])('when the Authorization header is %j, then it parses to %j', (value, parsed) => {
    expect(parseV1Authorization(value)).toEqual(parsed)
  })
})

const v4Cases: {
  name: string
  method: string
  key: string | null
  headers: Record<string, string>
  queries: Record<string, string | number | null>
}[] = [
  {
    name: 'PutObject of an awkward key',
    method: 'PUT',
    key: "users/alice/a b+c!'()*~é.txt",
    headers: {
      'x-oss-date': '20261123T120000Z',
      'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-oss-security-token': token,
      'Content-Type': 'text/plain',
    },
    queries: {},
  },
  {
    name: 'ListObjectsV2 with an empty prefix and a number',
    method: 'GET',
    key: null,
    headers: { 'x-oss-date': '20261123T120000Z', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' },
    queries: { 'list-type': 2, prefix: '', 'max-keys': 1, 'continuation-token': 'dXNlcnMv' },
  },
  {
    name: 'InitiateMultipartUpload (null sub-resource)',
    method: 'POST',
    key: 'k',
    headers: { 'x-oss-date': '20261123T120000Z', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' },
    queries: { uploads: null },
  },
  {
    name: 'UploadPart with mixed-case names',
    method: 'PUT',
    key: 'k',
    headers: { 'x-oss-date': '20261123T120000Z', 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' },
    queries: { partNumber: 1, uploadId: 'ABC' },
  },
]

describe('OSS V4 signature', () => {
  it.each(v4Cases)(
    'when ali-oss signs $name, then one of the emulator canonical requests is the same',
    (c) => {
      const expected = aliSign.getCanonicalRequest(
        c.method,
        { headers: c.headers, queries: c.queries },
        'examplebucket',
        c.key ?? undefined,
      )
      const query = urlQuery(
        Object.fromEntries(Object.entries(c.queries).filter(([, v]) => v !== null)) as Record<
          string,
          string | number
        >,
        Object.fromEntries(Object.entries(c.queries).filter(([, v]) => v === null)) as Record<string, null>,
      )
      const candidates = v4CanonicalRequests({
        method: c.method,
        name: 'examplebucket',
        key: c.key,
        query,
        headers: lower(c.headers),
        additionalHeaders: [],
      })
      expect(candidates).toContain(expected)
    },
  )

  it('when the signing key is derived, then it follows aliyun_v4 → date → region → oss → aliyun_v4_request', () => {
    const stringToSign = v4StringToSign('20261123T120000Z', 'cn-hangzhou', 'canonical')
    expect(stringToSign.split('\n').slice(0, 3)).toEqual([
      'OSS4-HMAC-SHA256',
      '20261123T120000Z',
      '20261123/cn-hangzhou/oss/aliyun_v4_request',
    ])
    expect(v4Signature('secret', '20261123', 'cn-hangzhou', stringToSign)).toMatch(/^[0-9a-f]{64}$/)
    expect(v4Signature('secret', '20261123', 'cn-shanghai', stringToSign)).not.toBe(
      v4Signature('secret', '20261123', 'cn-hangzhou', stringToSign),
    )
  })

  it.each([
    [
      `OSS4-HMAC-SHA256 Credential=STS.a/20261123/cn-hangzhou/oss/aliyun_v4_request,Signature=${'a'.repeat(64)}`,
      {
        accessKeyId: 'STS.a',
        date: '20261123',
        region: 'cn-hangzhou',
        additionalHeaders: [],
        signature: 'a'.repeat(64),
      },
    ],
    [
      `OSS4-HMAC-SHA256 Credential=STS.a/20261123/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host;Range,Signature=${'b'.repeat(64)}`,
      {
        accessKeyId: 'STS.a',
        date: '20261123',
        region: 'cn-hangzhou',
        additionalHeaders: ['host', 'range'],
        signature: 'b'.repeat(64),
      },
    ],
    [
      `OSS4-HMAC-SHA256 Credential=STS.a/20261123/cn-hangzhou/s3/aws4_request,Signature=${'a'.repeat(64)}`,
      null,
    ],
    ['OSS4-HMAC-SHA256 Credential=STS.a/20261123/cn-hangzhou/oss/aliyun_v4_request,Signature=xyz', null],
    [
      `OSS4-HMAC-SHA256 Credential=STS.a/20261123/cn-hangzhou/oss/aliyun_v4_request,Signature=${'a'.repeat(64)},Signature=${'b'.repeat(64)}`,
      null,
    ],
  ])('when the V4 header is %j, then it parses to %j', (value, parsed) => {
    expect(parseV4Authorization(value)).toEqual(parsed)
  })
})
