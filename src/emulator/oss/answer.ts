// The pieces every OSS operation shares: the answer's shape, the handler's context, XML and header helpers.
import { createHash } from 'node:crypto'
import type { OssAuthorization } from './authorize.ts'
import { OssError } from './errors.ts'
import { header, type OssRequest } from './request.ts'
import type { OssTarget } from './routing.ts'
import type { BucketContents, ObjectStore, StoredObject } from './store.ts'
import { parseTaggingHeader, type XmlNode, xmlDocument } from './xml.ts'

export interface OssAnswer {
  status: number
  headers: Record<string, string>
  body: Buffer | string
}

export interface HandlerContext {
  store: ObjectStore
  now: Date
  /** When the emulator started: every bucket's CreationDate. */
  createdAt: Date
  /** The scheme and host clients used, for CompleteMultipartUpload's Location. */
  baseUrl: string
  /** Decides one more (target, action) for the caller: DeleteMultipleObjects checks each key with it. */
  authorize: (target: OssTarget, action: string) => OssAuthorization
  /** CopyObject's source, already authorized for oss:GetObject; else null. */
  source: OssTarget | null
}

export const iso = (date: Date) => date.toISOString()
export const xml = (root: string, content: XmlNode[] | string): OssAnswer => ({
  status: 200,
  headers: { 'content-type': 'application/xml' },
  body: xmlDocument(root, content),
})
export const empty = (status: number, headers: Record<string, string> = {}): OssAnswer => ({
  status,
  headers,
  body: '',
})

export function metaHeaders(req: OssRequest): Record<string, string> {
  const meta: Record<string, string> = {}
  for (const name of Object.keys(req.headers))
    if (name.startsWith('x-oss-meta-')) meta[name] = String(header(req.headers, name) ?? '')
  return meta
}

export function getObject(contents: BucketContents, key: string): StoredObject {
  const object = contents.objects.get(key)
  if (!object) throw new OssError('NoSuchKey', undefined, { Key: key })
  return object
}

/** Throws OssError InvalidDigest when a Content-MD5 header does not match the body. */
export function assertContentMd5(req: OssRequest): void {
  const md5 = header(req.headers, 'content-md5')
  if (md5 !== undefined && md5 !== createHash('md5').update(req.body).digest('base64'))
    throw new OssError('InvalidDigest')
}

/** The tags an upload sets with `x-oss-tagging` (none without it). */
export function requestTags(req: OssRequest): Record<string, string> {
  const value = header(req.headers, 'x-oss-tagging')
  return value === undefined ? {} : parseTaggingHeader(value)
}

export function deleteObject(ctx: HandlerContext, contents: BucketContents, key: string): OssAnswer {
  const previous = contents.objects.get(key)
  if (previous) {
    contents.objects.delete(key)
    ctx.store.account(0, previous.body.length)
  }
  return empty(204)
}
