// Which OSS operation a request is (method, key, sub-resources) and the RAM action OSS authorizes it as.
import { OssError } from './errors.ts'
import { hasQuery, type OssRequest, queryValue } from './request.ts'
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

export interface OssOperation {
  name: OssOperationName
  /** The RAM action OSS checks, e.g. `oss:PutObject` for UploadPart. */
  action: string
  /** For listings: the `prefix` parameter, which is the `oss:Prefix` condition value ('' when absent). */
  listingPrefix: string | null
}

const op = (name: OssOperationName, action: string, listingPrefix: string | null = null): OssOperation => ({
  name,
  action,
  listingPrefix,
})

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

function bucketOperation(req: OssRequest): OssOperation {
  const prefix = queryValue(req.query, 'prefix') ?? ''
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
      if (req.headers['x-oss-copy-source'] !== undefined) throw new OssError('NotImplemented')
      assertOnly(req, ['uploadId', 'partNumber'])
      if (uploadId) return op('UploadPart', 'oss:PutObject')
      if (hasQuery(req.query, 'partNumber'))
        throw new OssError('InvalidArgument', 'partNumber needs an uploadId.')
      return op('PutObject', 'oss:PutObject')
    case 'GET':
      assertOnly(req, ['uploadId', 'objectMeta'])
      if (uploadId) return op('ListParts', 'oss:ListParts')
      if (hasQuery(req.query, 'objectMeta')) return op('GetObjectMeta', 'oss:GetObject')
      return op('GetObject', 'oss:GetObject')
    case 'HEAD':
      assertOnly(req, [])
      return op('HeadObject', 'oss:GetObject')
    case 'DELETE':
      assertOnly(req, ['uploadId'])
      return uploadId
        ? op('AbortMultipartUpload', 'oss:AbortMultipartUpload')
        : op('DeleteObject', 'oss:DeleteObject')
    case 'POST':
      assertOnly(req, ['uploads', 'uploadId'])
      if (hasQuery(req.query, 'uploads')) return op('InitiateMultipartUpload', 'oss:PutObject')
      if (uploadId) return op('CompleteMultipartUpload', 'oss:PutObject')
      throw new OssError('NotImplemented')
    default:
      throw new OssError('MethodNotAllowed')
  }
}

/**
 * Identifies the operation. HeadObject and GetObjectMeta are authorized as oss:GetObject, and
 * InitiateMultipartUpload, UploadPart and CompleteMultipartUpload as oss:PutObject, as OSS does.
 * Throws OssError NotImplemented (an operation the emulator does not have), MethodNotAllowed.
 */
export function identifyOperation(req: OssRequest, target: OssTarget): OssOperation {
  return target.key === null ? bucketOperation(req) : objectOperation(req)
}
