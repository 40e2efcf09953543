// Which OSS operation a request is (method, key, sub-resources) and the RAM action OSS authorizes it as.
import { OssError } from './errors.ts'
import { hasQuery, header, type OssRequest, queryValue } from './request.ts'
import type { OssTarget } from './routing.ts'
import { SIGNED_SUBRESOURCES } from './signature-v1.ts'

export type OssOperationName =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectMeta'
  | 'DeleteObject'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'GetBucketInfo'
  | 'GetBucketLocation'
  | 'InitiateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'CopyObject'
  | 'AppendObject'
  | 'PutObjectTagging'
  | 'GetObjectTagging'
  | 'DeleteObjectTagging'
  | 'DeleteMultipleObjects'
  | 'PostObject'

export interface OssOperation {
  name: OssOperationName
  /** The RAM action OSS checks, e.g. `oss:PutObject` for UploadPart. */
  action: string
  /** For listings: the `prefix` parameter, which is the `oss:Prefix` condition value ('' when absent). */
  listingPrefix: string | null
  /** Further actions checked on the same resource: `oss:PutObjectTagging` when the request sets tags. */
  extraActions?: string[]
  /** CopyObject's source (`x-oss-copy-source`), checked for `oss:GetObject`; else null. */
  copySource?: { bucket: string; key: string } | null
}

const op = (name: OssOperationName, action: string, listingPrefix: string | null = null): OssOperation => ({
  name,
  action,
  listingPrefix,
  extraActions: [],
  copySource: null,
})

/** An upload that sets tags (`x-oss-tagging`) also needs `oss:PutObjectTagging` (OSS object tagging docs). */
function withTagging(req: OssRequest, operation: OssOperation): OssOperation {
  if (header(req.headers, 'x-oss-tagging') === undefined) return operation
  return { ...operation, extraActions: [...(operation.extraActions ?? []), 'oss:PutObjectTagging'] }
}

/** `x-oss-copy-source: /<bucket>/<url-encoded key>` (ali-oss and the OSS docs), parsed. */
function copySource(value: string): { bucket: string; key: string } {
  const m = /^\/([^/]+)\/(.+)$/.exec(value)
  let key = ''
  try {
    key = decodeURIComponent(m?.[2] ?? '')
  } catch {
    key = ''
  }
  if (!m?.[1] || key === '' || value.includes('?'))
    throw new OssError('InvalidArgument', 'x-oss-copy-source must be /<bucket>/<object>.')
  return { bucket: m[1], key }
}

function putOperation(req: OssRequest): OssOperation {
  const source = header(req.headers, 'x-oss-copy-source')
  if (source !== undefined) {
    assertOnly(req, [])
    return withTagging(req, { ...op('CopyObject', 'oss:PutObject'), copySource: copySource(source) })
  }
  assertOnly(req, ['uploadId', 'partNumber', 'tagging'])
  if (hasQuery(req.query, 'tagging')) return op('PutObjectTagging', 'oss:PutObjectTagging')
  if (hasQuery(req.query, 'uploadId')) return op('UploadPart', 'oss:PutObject')
  if (hasQuery(req.query, 'partNumber'))
    throw new OssError('InvalidArgument', 'partNumber needs an uploadId.')
  return withTagging(req, op('PutObject', 'oss:PutObject'))
}

function postOperation(req: OssRequest): OssOperation {
  assertOnly(req, ['uploads', 'uploadId', 'append', 'position'])
  if (hasQuery(req.query, 'append')) return withTagging(req, op('AppendObject', 'oss:PutObject'))
  if (hasQuery(req.query, 'uploads')) return withTagging(req, op('InitiateMultipartUpload', 'oss:PutObject'))
  if (hasQuery(req.query, 'uploadId')) return op('CompleteMultipartUpload', 'oss:PutObject')
  throw new OssError('NotImplemented')
}

/** Refuses a sub-resource the operation does not take: it would name another OSS API (`?acl`, `?tagging`, …). */
function assertOnly(req: OssRequest, handled: readonly string[]): void {
  const other = req.query.find(
    (p) =>
      SIGNED_SUBRESOURCES.has(p.name) &&
      !handled.includes(p.name) &&
      p.name !== 'security-token' &&
      !p.name.startsWith('response-'),
  )
  if (other) throw new OssError('NotImplemented')
}

/** A browser form upload: `POST /` to the bucket with a multipart/form-data body. */
export function isPostObject(req: OssRequest, target: OssTarget): boolean {
  const type = header(req.headers, 'content-type') ?? ''
  return (
    req.method === 'POST' &&
    target.key === null &&
    req.query.length === 0 &&
    /^multipart\/form-data\s*;/i.test(type)
  )
}

function bucketOperation(req: OssRequest): OssOperation {
  const prefix = queryValue(req.query, 'prefix') ?? ''
  if (req.method === 'POST' && hasQuery(req.query, 'delete')) {
    assertOnly(req, ['delete'])
    // Authorized key by key as oss:DeleteObject (see the handler).
    return op('DeleteMultipleObjects', 'oss:DeleteObject')
  }
  if (req.method !== 'GET') throw new OssError('NotImplemented')
  assertOnly(req, ['bucketInfo', 'location', 'uploads', 'continuation-token'])
  if (hasQuery(req.query, 'bucketInfo')) return op('GetBucketInfo', 'oss:GetBucketInfo')
  if (hasQuery(req.query, 'location')) return op('GetBucketLocation', 'oss:GetBucketLocation')
  if (hasQuery(req.query, 'uploads')) return op('ListMultipartUploads', 'oss:ListMultipartUploads', prefix)
  if (queryValue(req.query, 'list-type') === '2') return op('ListObjectsV2', 'oss:ListObjects', prefix)
  return op('ListObjects', 'oss:ListObjects', prefix)
}

function objectOperation(req: OssRequest): OssOperation {
  const uploadId = hasQuery(req.query, 'uploadId')
  switch (req.method) {
    case 'PUT':
      return putOperation(req)
    case 'GET':
      assertOnly(req, ['uploadId', 'objectMeta', 'tagging'])
      if (hasQuery(req.query, 'tagging')) return op('GetObjectTagging', 'oss:GetObjectTagging')
      if (uploadId) return op('ListParts', 'oss:ListParts')
      if (hasQuery(req.query, 'objectMeta')) return op('GetObjectMeta', 'oss:GetObject')
      return op('GetObject', 'oss:GetObject')
    case 'HEAD':
      assertOnly(req, [])
      return op('HeadObject', 'oss:GetObject')
    case 'DELETE':
      assertOnly(req, ['uploadId', 'tagging'])
      if (hasQuery(req.query, 'tagging')) return op('DeleteObjectTagging', 'oss:DeleteObjectTagging')
      return uploadId
        ? op('AbortMultipartUpload', 'oss:AbortMultipartUpload')
        : op('DeleteObject', 'oss:DeleteObject')
    case 'POST':
      return postOperation(req)
    default:
      throw new OssError('MethodNotAllowed')
  }
}

/**
 * Identifies the operation. HeadObject and GetObjectMeta are authorized as oss:GetObject;
 * InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AppendObject and PostObject as
 * oss:PutObject; CopyObject as oss:PutObject on the target and oss:GetObject on the source; an
 * upload with `x-oss-tagging` needs oss:PutObjectTagging too; DeleteMultipleObjects is
 * oss:DeleteObject on each key — as OSS documents them.
 * Throws OssError NotImplemented (an operation the emulator does not have), MethodNotAllowed,
 * InvalidArgument.
 */
export function identifyOperation(req: OssRequest, target: OssTarget): OssOperation {
  if (isPostObject(req, target)) return op('PostObject', 'oss:PutObject')
  return target.key === null ? bucketOperation(req) : objectOperation(req)
}
