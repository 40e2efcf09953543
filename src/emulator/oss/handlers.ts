// What each OSS operation does to the in-memory store, and the answer OSS gives (status, headers, XML body).
import { createHash } from 'node:crypto'
import {
  assertContentMd5,
  deleteObject,
  empty,
  getObject,
  type HandlerContext,
  iso,
  metaHeaders,
  type OssAnswer,
  requestTags,
  xml,
} from './answer.ts'
import { OssError } from './errors.ts'
import { type Listing, listNames } from './listing.ts'
import type { OssOperation } from './operations.ts'
import { header, type OssRequest, queryValue } from './request.ts'
import type { OssTarget } from './routing.ts'
import {
  type BucketContents,
  compareKeys,
  type MultipartUpload,
  md5Etag,
  multipartEtag,
  newUploadId,
  type StoredObject,
  type StoredPart,
} from './store.ts'
import { runWrite } from './writes.ts'
import { parseCompleteMultipartUpload, type XmlNode } from './xml.ts'

// OSS: every part but the last is at least 100 KB; part numbers are 1..10000; listings return at most 1000.
const MIN_PART_BYTES = 100 * 1024
const MAX_PART_NUMBER = 10_000
const MAX_LIST = 1000

/** The GetObject query parameters that override a response header (OSS allows these six). */
const RESPONSE_OVERRIDES: ReadonlySet<string> = new Set([
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
])

function intParam(req: OssRequest, name: string, fallback: number, max: number): number {
  const raw = queryValue(req.query, name)
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > max)
    throw new OssError('InvalidArgument', `${name} must be an integer from 0 to ${max}.`)
  return Number(raw)
}

function objectHeaders(object: StoredObject, req: OssRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    'content-length': String(object.body.length),
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
    'x-oss-object-type': object.type,
    'x-oss-storage-class': 'Standard',
    ...object.meta,
  }
  if (object.type === 'Appendable') headers['x-oss-next-append-position'] = String(object.body.length)
  const tagCount = Object.keys(object.tags).length
  if (tagCount > 0) headers['x-oss-tagging-count'] = String(tagCount)
  for (const p of req.query)
    if (RESPONSE_OVERRIDES.has(p.name) && p.value !== '') headers[p.name.slice('response-'.length)] = p.value
  return headers
}

function getUpload(contents: BucketContents, key: string, req: OssRequest): MultipartUpload {
  const uploadId = queryValue(req.query, 'uploadId') ?? ''
  const upload = contents.uploads.get(uploadId)
  if (!upload || upload.key !== key) throw new OssError('NoSuchUpload', undefined, { UploadId: uploadId })
  return upload
}

function putObject(ctx: HandlerContext, contents: BucketContents, key: string, req: OssRequest): OssAnswer {
  assertContentMd5(req)
  const tags = requestTags(req)
  const previous = contents.objects.get(key)
  ctx.store.account(req.body.length, previous?.body.length ?? 0)
  const object: StoredObject = {
    key,
    body: req.body,
    etag: md5Etag(req.body),
    lastModified: ctx.now,
    contentType: header(req.headers, 'content-type') ?? 'application/octet-stream',
    meta: metaHeaders(req),
    tags,
    type: 'Normal',
  }
  contents.objects.set(key, object)
  return empty(200, { etag: object.etag })
}

function ownerNodes(target: OssTarget): XmlNode[] {
  return [
    ['ID', target.bucket.account],
    ['DisplayName', target.bucket.account],
  ]
}

function listingQuery(
  req: OssRequest,
  after: string,
): { prefix: string; delimiter: string; encode: boolean } & {
  after: string
  maxKeys: number
} {
  const encoding = queryValue(req.query, 'encoding-type')
  if (encoding !== undefined && encoding !== '' && encoding !== 'url')
    throw new OssError('InvalidArgument', 'encoding-type must be url.')
  return {
    prefix: queryValue(req.query, 'prefix') ?? '',
    delimiter: queryValue(req.query, 'delimiter') ?? '',
    after,
    maxKeys: intParam(req, 'max-keys', 100, MAX_LIST),
    encode: encoding === 'url',
  }
}

function contentsNodes(
  contents: BucketContents,
  listing: Listing,
  target: OssTarget,
  encode: (s: string) => string,
  withOwner: boolean,
): XmlNode[] {
  const nodes: XmlNode[] = []
  for (const key of listing.keys) {
    const object = contents.objects.get(key)
    if (!object) continue
    nodes.push([
      'Contents',
      [
        ['Key', encode(key)],
        ['LastModified', iso(object.lastModified)],
        ['ETag', object.etag],
        ['Type', object.type],
        ['Size', object.body.length],
        ['StorageClass', 'Standard'],
        ['Owner', withOwner ? ownerNodes(target) : null],
      ],
    ])
  }
  for (const prefix of listing.prefixes) nodes.push(['CommonPrefixes', [['Prefix', encode(prefix)]]])
  return nodes
}

function listObjects(contents: BucketContents, target: OssTarget, req: OssRequest): OssAnswer {
  const q = listingQuery(req, queryValue(req.query, 'marker') ?? '')
  const encode = q.encode ? encodeURIComponent : (s: string) => s
  const listing = listNames(contents.objects.keys(), q)
  return xml('ListBucketResult', [
    ['Name', target.name],
    ['Prefix', encode(q.prefix)],
    ['Marker', encode(q.after)],
    ['MaxKeys', q.maxKeys],
    ['Delimiter', encode(q.delimiter)],
    ['EncodingType', q.encode ? 'url' : null],
    ['IsTruncated', listing.truncated],
    ['NextMarker', listing.next === null ? null : encode(listing.next)],
    ...contentsNodes(contents, listing, target, encode, true),
  ])
}

function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8')
  if (token === '' || Buffer.from(key, 'utf8').toString('base64url') !== token)
    throw new OssError('InvalidArgument', 'The continuation-token is not valid.')
  return key
}

function listObjectsV2(contents: BucketContents, target: OssTarget, req: OssRequest): OssAnswer {
  const token = queryValue(req.query, 'continuation-token')
  const startAfter = queryValue(req.query, 'start-after') ?? ''
  const fromToken = token === undefined ? '' : decodeToken(token)
  const after = compareKeys(fromToken, startAfter) > 0 ? fromToken : startAfter
  const q = listingQuery(req, after)
  const encode = q.encode ? encodeURIComponent : (s: string) => s
  const listing = listNames(contents.objects.keys(), q)
  return xml('ListBucketResult', [
    ['Name', target.name],
    ['Prefix', encode(q.prefix)],
    ['StartAfter', startAfter === '' ? null : encode(startAfter)],
    ['ContinuationToken', token ?? null],
    ['MaxKeys', q.maxKeys],
    ['Delimiter', encode(q.delimiter)],
    ['EncodingType', q.encode ? 'url' : null],
    ['IsTruncated', listing.truncated],
    ['NextContinuationToken', listing.next === null ? null : Buffer.from(listing.next).toString('base64url')],
    ['KeyCount', listing.keys.length + listing.prefixes.length],
    ...contentsNodes(contents, listing, target, encode, queryValue(req.query, 'fetch-owner') === 'true'),
  ])
}

function bucketInfo(ctx: HandlerContext, target: OssTarget): OssAnswer {
  const { bucket } = target
  return xml('BucketInfo', [
    [
      'Bucket',
      [
        ['AccessMonitor', 'Disabled'],
        ['CreationDate', iso(ctx.createdAt)],
        ['ExtranetEndpoint', `oss-${bucket.region}.aliyuncs.com`],
        ['IntranetEndpoint', `oss-${bucket.region}-internal.aliyuncs.com`],
        ['Location', `oss-${bucket.region}`],
        ['StorageClass', 'Standard'],
        ['TransferAcceleration', 'Disabled'],
        ['CrossRegionReplication', 'Disabled'],
        ['Name', bucket.name],
        ['Owner', ownerNodes(target)],
        ['AccessControlList', [['Grant', 'private']]],
        ['DataRedundancyType', 'LRS'],
        ['Versioning', 'Suspended'],
        ['ServerSideEncryptionRule', [['SSEAlgorithm', 'None']]],
      ],
    ],
  ])
}

function initiate(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  key: string,
  req: OssRequest,
) {
  const upload: MultipartUpload = {
    uploadId: newUploadId(),
    key,
    initiated: ctx.now,
    contentType: header(req.headers, 'content-type') ?? 'application/octet-stream',
    meta: metaHeaders(req),
    tags: requestTags(req),
    parts: new Map(),
  }
  contents.uploads.set(upload.uploadId, upload)
  return xml('InitiateMultipartUploadResult', [
    ['Bucket', target.name],
    ['Key', key],
    ['UploadId', upload.uploadId],
  ])
}

function uploadPart(ctx: HandlerContext, contents: BucketContents, key: string, req: OssRequest): OssAnswer {
  const upload = getUpload(contents, key, req)
  const raw = queryValue(req.query, 'partNumber') ?? ''
  const partNumber = /^\d{1,5}$/.test(raw) ? Number(raw) : 0
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER)
    throw new OssError('InvalidArgument', `partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`)
  const md5 = header(req.headers, 'content-md5')
  if (md5 !== undefined && md5 !== createHash('md5').update(req.body).digest('base64'))
    throw new OssError('InvalidDigest')
  ctx.store.account(req.body.length, upload.parts.get(partNumber)?.body.length ?? 0)
  const part: StoredPart = { partNumber, body: req.body, etag: md5Etag(req.body), lastModified: ctx.now }
  upload.parts.set(partNumber, part)
  return empty(200, { etag: part.etag })
}

function releaseParts(ctx: HandlerContext, upload: MultipartUpload): void {
  let bytes = 0
  for (const part of upload.parts.values()) bytes += part.body.length
  ctx.store.account(0, bytes)
}

function complete(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  key: string,
  req: OssRequest,
): OssAnswer {
  const upload = getUpload(contents, key, req)
  const listed = parseCompleteMultipartUpload(req.body.toString('utf8'))
  const parts: StoredPart[] = []
  listed.forEach((entry, i) => {
    if (i > 0 && entry.partNumber <= (listed[i - 1]?.partNumber ?? 0)) throw new OssError('InvalidPartOrder')
    const part = upload.parts.get(entry.partNumber)
    const quoted = entry.etag.startsWith('"') ? entry.etag : `"${entry.etag}"`
    if (!part || part.etag.toUpperCase() !== quoted.toUpperCase()) throw new OssError('InvalidPart')
    parts.push(part)
  })
  if (parts.slice(0, -1).some((p) => p.body.length < MIN_PART_BYTES)) throw new OssError('EntityTooSmall')
  const body = Buffer.concat(parts.map((p) => p.body))
  const previous = contents.objects.get(key)
  releaseParts(ctx, upload)
  ctx.store.account(body.length, previous?.body.length ?? 0)
  const object: StoredObject = {
    key,
    body,
    etag: multipartEtag(parts),
    lastModified: ctx.now,
    contentType: upload.contentType,
    meta: upload.meta,
    tags: upload.tags,
    type: 'Multipart',
  }
  contents.uploads.delete(upload.uploadId)
  contents.objects.set(key, object)
  const answer = xml('CompleteMultipartUploadResult', [
    ['Location', `${ctx.baseUrl}/${target.name}/${key}`],
    ['Bucket', target.name],
    ['Key', key],
    ['ETag', object.etag],
  ])
  return { ...answer, headers: { ...answer.headers, etag: object.etag } }
}

function abort(ctx: HandlerContext, contents: BucketContents, key: string, req: OssRequest): OssAnswer {
  const upload = getUpload(contents, key, req)
  releaseParts(ctx, upload)
  contents.uploads.delete(upload.uploadId)
  return empty(204)
}

function listParts(contents: BucketContents, target: OssTarget, key: string, req: OssRequest): OssAnswer {
  const upload = getUpload(contents, key, req)
  const marker = intParam(req, 'part-number-marker', 0, MAX_PART_NUMBER)
  const max = intParam(req, 'max-parts', MAX_LIST, MAX_LIST)
  const all = [...upload.parts.values()]
    .filter((p) => p.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber)
  const page = all.slice(0, max)
  const truncated = all.length > page.length
  return xml('ListPartsResult', [
    ['Bucket', target.name],
    ['Key', key],
    ['UploadId', upload.uploadId],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.at(-1)?.partNumber ?? marker],
    ['MaxParts', max],
    ['IsTruncated', truncated],
    ...page.map(
      (p): XmlNode => [
        'Part',
        [
          ['PartNumber', p.partNumber],
          ['LastModified', iso(p.lastModified)],
          ['ETag', p.etag],
          ['Size', p.body.length],
        ],
      ],
    ),
  ])
}

function listUploads(contents: BucketContents, target: OssTarget, req: OssRequest): OssAnswer {
  const prefix = queryValue(req.query, 'prefix') ?? ''
  const delimiter = queryValue(req.query, 'delimiter') ?? ''
  const keyMarker = queryValue(req.query, 'key-marker') ?? ''
  const uploadIdMarker = queryValue(req.query, 'upload-id-marker') ?? ''
  const max = intParam(req, 'max-uploads', MAX_LIST, MAX_LIST)
  const after = (u: MultipartUpload) => {
    const byKey = compareKeys(u.key, keyMarker)
    return (
      keyMarker === '' || byKey > 0 || (byKey === 0 && uploadIdMarker !== '' && u.uploadId > uploadIdMarker)
    )
  }
  const candidates = [...contents.uploads.values()]
    .filter((u) => u.key.startsWith(prefix) && after(u))
    .sort((a, b) => compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : 1))
  const uploads: MultipartUpload[] = []
  const prefixes: string[] = []
  let truncated = false
  for (const upload of candidates) {
    const at = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length)
    const common = at === -1 ? null : upload.key.slice(0, at + delimiter.length)
    if (common !== null && prefixes.at(-1) === common) continue
    if (uploads.length + prefixes.length >= max) {
      truncated = true
      break
    }
    if (common !== null) prefixes.push(common)
    else uploads.push(upload)
  }
  const last = uploads.at(-1)
  return xml('ListMultipartUploadsResult', [
    ['Bucket', target.name],
    ['KeyMarker', keyMarker],
    ['UploadIdMarker', uploadIdMarker],
    ['NextKeyMarker', truncated ? (last?.key ?? '') : ''],
    ['NextUploadIdMarker', truncated ? (last?.uploadId ?? '') : ''],
    ['Delimiter', delimiter],
    ['Prefix', prefix],
    ['MaxUploads', max],
    ['IsTruncated', truncated],
    ...uploads.map(
      (u): XmlNode => [
        'Upload',
        [
          ['Key', u.key],
          ['UploadId', u.uploadId],
          ['Initiated', iso(u.initiated)],
        ],
      ],
    ),
    ...prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', p]]]),
  ])
}

/** Runs an authorized operation. Throws OssError (NoSuchKey, NoSuchUpload, InvalidArgument, InvalidPart, …). */
export function runOperation(
  ctx: HandlerContext,
  target: OssTarget,
  operation: OssOperation,
  req: OssRequest,
): OssAnswer {
  const contents = ctx.store.bucket(target.bucket.name)
  const key = target.key ?? ''
  switch (operation.name) {
    case 'PutObject':
      return putObject(ctx, contents, key, req)
    case 'GetObject': {
      const object = getObject(contents, key)
      return { status: 200, headers: objectHeaders(object, req), body: object.body }
    }
    case 'HeadObject':
      return { status: 200, headers: objectHeaders(getObject(contents, key), req), body: '' }
    case 'GetObjectMeta': {
      const object = getObject(contents, key)
      return empty(200, {
        etag: object.etag,
        'content-length': String(object.body.length),
        'last-modified': object.lastModified.toUTCString(),
      })
    }
    case 'DeleteObject':
      return deleteObject(ctx, contents, key)
    case 'ListObjects':
      return listObjects(contents, target, req)
    case 'ListObjectsV2':
      return listObjectsV2(contents, target, req)
    case 'GetBucketInfo':
      return bucketInfo(ctx, target)
    case 'GetBucketLocation':
      return xml('LocationConstraint', `oss-${target.bucket.region}`)
    case 'InitiateMultipartUpload':
      return initiate(ctx, contents, target, key, req)
    case 'UploadPart':
      return uploadPart(ctx, contents, key, req)
    case 'CompleteMultipartUpload':
      return complete(ctx, contents, target, key, req)
    case 'AbortMultipartUpload':
      return abort(ctx, contents, key, req)
    case 'ListParts':
      return listParts(contents, target, key, req)
    case 'ListMultipartUploads':
      return listUploads(contents, target, req)
    default:
      return runWrite(ctx, contents, target, operation, req)
  }
}
