// The object writes beyond PutObject: CopyObject, AppendObject, object tagging, DeleteMultipleObjects and PostObject.

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
import type { OssOperation } from './operations.ts'
import type { PostForm } from './request.ts'
import { header, type OssRequest, queryValue } from './request.ts'
import { type OssTarget, withKey } from './routing.ts'
import { type BucketContents, md5Etag, type StoredObject } from './store.ts'
import { parseDelete, parseTagging, type XmlNode } from './xml.ts'

function store(ctx: HandlerContext, contents: BucketContents, object: StoredObject): void {
  ctx.store.account(object.body.length, contents.objects.get(object.key)?.body.length ?? 0)
  contents.objects.set(object.key, object)
}

/** CopyObject: the source's body; its metadata and tags unless the request says REPLACE. */
function copyObject(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  req: OssRequest,
): OssAnswer {
  const key = target.key ?? ''
  const source = ctx.source
  if (!source?.key) throw new OssError('InvalidArgument', 'x-oss-copy-source is missing.')
  if (source.bucket.region !== target.bucket.region)
    throw new OssError('InvalidArgument', 'The source and target buckets must be in the same region.')
  const from = getObject(ctx.store.bucket(source.bucket.name), source.key)
  const replaceMeta = header(req.headers, 'x-oss-metadata-directive')?.toUpperCase() === 'REPLACE'
  const replaceTags = header(req.headers, 'x-oss-tagging-directive')?.toUpperCase() === 'REPLACE'
  const object: StoredObject = {
    key,
    body: from.body,
    etag: from.etag,
    lastModified: ctx.now,
    contentType: replaceMeta ? (header(req.headers, 'content-type') ?? from.contentType) : from.contentType,
    meta: replaceMeta ? metaHeaders(req) : { ...from.meta },
    tags: replaceTags ? requestTags(req) : { ...from.tags },
    type: 'Normal',
  }
  store(ctx, contents, object)
  const answer = xml('CopyObjectResult', [
    ['ETag', object.etag],
    ['LastModified', iso(object.lastModified)],
  ])
  return { ...answer, headers: { ...answer.headers, etag: object.etag } }
}

/**
 * AppendObject (`POST ?append&position=N`): creates an Appendable object at position 0, else appends
 * when N is its length. Throws PositionNotEqualToLength (409, with the next position),
 * ObjectNotAppendable (409) for a Normal or Multipart object, InvalidArgument for a bad position.
 */
function appendObject(
  ctx: HandlerContext,
  contents: BucketContents,
  key: string,
  req: OssRequest,
): OssAnswer {
  const raw = queryValue(req.query, 'position') ?? ''
  if (!/^\d{1,15}$/.test(raw))
    throw new OssError('InvalidArgument', 'position must be a non-negative integer.')
  assertContentMd5(req)
  const position = Number(raw)
  const previous = contents.objects.get(key)
  if (previous && previous.type !== 'Appendable') throw new OssError('ObjectNotAppendable')
  const length = previous?.body.length ?? 0
  if (position !== length)
    throw new OssError('PositionNotEqualToLength', undefined, { NextAppendPosition: String(length) })
  const body = previous ? Buffer.concat([previous.body, req.body]) : req.body
  const object: StoredObject = {
    key,
    body,
    etag: md5Etag(body),
    lastModified: ctx.now,
    contentType: previous?.contentType ?? header(req.headers, 'content-type') ?? 'application/octet-stream',
    meta: previous?.meta ?? metaHeaders(req),
    tags: previous?.tags ?? requestTags(req),
    type: 'Appendable',
  }
  store(ctx, contents, object)
  return empty(200, { etag: object.etag, 'x-oss-next-append-position': String(body.length) })
}

function taggingXml(tags: Record<string, string>): OssAnswer {
  const nodes = Object.entries(tags).map(
    ([key, value]): XmlNode => [
      'Tag',
      [
        ['Key', key],
        ['Value', value],
      ],
    ],
  )
  return xml('Tagging', [['TagSet', nodes]])
}

/**
 * DeleteMultipleObjects: each key is authorized on its own as oss:DeleteObject; a key the caller may
 * not delete stays and is reported. OSS documents that quiet mode returns only the keys that failed
 * but not the element it uses; the emulator answers S3's `<Error><Key/><Code/><Message/></Error>`.
 */
function deleteMultiple(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  req: OssRequest,
): OssAnswer {
  if (header(req.headers, 'content-md5') === undefined)
    throw new OssError('InvalidDigest', 'DeleteMultipleObjects needs a Content-MD5 header.')
  assertContentMd5(req)
  const { quiet, keys } = parseDelete(req.body.toString('utf8'))
  const nodes: XmlNode[] = []
  for (const key of keys) {
    const decision = ctx.authorize(withKey(target, key), 'oss:DeleteObject')
    if (decision.allowed) {
      deleteObject(ctx, contents, key)
      if (!quiet) nodes.push(['Deleted', [['Key', key]]])
    } else {
      const message = `You are not authorized to do oss:DeleteObject: ${decision.reason}.`
      nodes.push([
        'Error',
        [
          ['Key', key],
          ['Code', 'AccessDenied'],
          ['Message', message],
        ],
      ])
    }
  }
  return xml('DeleteResult', nodes)
}

/** PostObject: stores the form's file; answers success_action_status (204 by default, 201 with XML). */
function postObject(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  form: PostForm,
): OssAnswer {
  const key = target.key ?? ''
  const object: StoredObject = {
    key,
    body: form.file,
    etag: md5Etag(form.file),
    lastModified: ctx.now,
    contentType: form.fields.get('content-type') ?? 'application/octet-stream',
    meta: Object.fromEntries([...form.fields].filter(([name]) => name.startsWith('x-oss-meta-'))),
    tags: {},
    type: 'Normal',
  }
  store(ctx, contents, object)
  const status = form.fields.get('success_action_status')
  if (status === '201') {
    const answer = xml('PostResponse', [
      ['Bucket', target.name],
      ['Location', `${ctx.baseUrl}/${key}`],
      ['Key', key],
      ['ETag', object.etag],
    ])
    return { ...answer, status: 201, headers: { ...answer.headers, etag: object.etag } }
  }
  return empty(status === '200' ? 200 : 204, { etag: object.etag })
}

/** The operations of this file, for runOperation. Throws OssError as each describes. */
export function runWrite(
  ctx: HandlerContext,
  contents: BucketContents,
  target: OssTarget,
  operation: OssOperation,
  req: OssRequest,
): OssAnswer {
  const key = target.key ?? ''
  switch (operation.name) {
    case 'CopyObject':
      return copyObject(ctx, contents, target, req)
    case 'AppendObject':
      return appendObject(ctx, contents, key, req)
    case 'PutObjectTagging': {
      getObject(contents, key).tags = parseTagging(req.body.toString('utf8'))
      return empty(200)
    }
    case 'GetObjectTagging':
      return taggingXml(getObject(contents, key).tags)
    case 'DeleteObjectTagging': {
      getObject(contents, key).tags = {}
      return empty(204)
    }
    case 'DeleteMultipleObjects':
      return deleteMultiple(ctx, contents, target, req)
    case 'PostObject':
      if (!req.form) throw new OssError('MalformedPOSTRequest')
      return postObject(ctx, contents, target, req.form)
    default:
      throw new OssError('NotImplemented')
  }
}
