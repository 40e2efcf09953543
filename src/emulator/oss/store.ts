// The OSS side's objects and multipart uploads, in memory, per bucket (an access point shares its bucket's).
import { createHash, randomBytes } from 'node:crypto'
import { OssError } from './errors.ts'

export interface StoredObject {
  key: string
  body: Buffer
  /** Quoted, upper-case hex as OSS writes it: `"5B3C…"`, or `"…-N"` for a multipart object. */
  etag: string
  lastModified: Date
  contentType: string
  /** `x-oss-meta-*` headers, names lower-cased. */
  meta: Record<string, string>
  /** Object tags (PutObjectTagging, `x-oss-tagging`). */
  tags: Record<string, string>
  type: 'Normal' | 'Multipart' | 'Appendable'
}

export interface StoredPart {
  partNumber: number
  body: Buffer
  etag: string
  lastModified: Date
}

export interface MultipartUpload {
  uploadId: string
  key: string
  initiated: Date
  contentType: string
  meta: Record<string, string>
  tags: Record<string, string>
  parts: Map<number, StoredPart>
}

export interface BucketContents {
  objects: Map<string, StoredObject>
  uploads: Map<string, MultipartUpload>
}

/** All buckets' contents, with one memory budget for object and part bytes. */
export interface ObjectStore {
  /** The contents of bucket `name` (created empty on first use). */
  bucket(name: string): BucketContents
  /** Reserves `bytes` for new data and releases `released`; throws OssError EntityTooLarge over the budget. */
  account(bytes: number, released: number): void
  readonly bytes: number
}

/** The emulator's default memory budget for stored bytes. */
export const DEFAULT_MAX_STORED_BYTES = 512 * 1024 * 1024

/** An in-memory store holding at most `maxBytes` (default 512 MiB) of object and part data. */
export function createObjectStore(options: { maxBytes?: number } = {}): ObjectStore {
  const max = options.maxBytes ?? DEFAULT_MAX_STORED_BYTES
  const buckets = new Map<string, BucketContents>()
  let bytes = 0
  return {
    bucket(name) {
      let contents = buckets.get(name)
      if (!contents) {
        contents = { objects: new Map(), uploads: new Map() }
        buckets.set(name, contents)
      }
      return contents
    },
    account(added, released) {
      if (bytes - released + added > max)
        throw new OssError('EntityTooLarge', `The emulator keeps at most ${max} bytes in memory.`)
      bytes += added - released
    },
    get bytes() {
      return bytes
    },
  }
}

/** OSS's ETag of a simple upload: the quoted upper-case hex MD5. */
export function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`
}

/** OSS's ETag of a completed multipart upload: MD5 of the parts' binary MD5s, then `-<count>`. */
export function multipartEtag(parts: readonly StoredPart[]): string {
  const hash = createHash('md5')
  for (const part of parts) hash.update(Buffer.from(part.etag.replace(/"/g, ''), 'hex'))
  return `"${hash.digest('hex').toUpperCase()}-${parts.length}"`
}

/** A new upload id: 32 upper-case hex digits, as OSS's look. */
export function newUploadId(): string {
  return randomBytes(16).toString('hex').toUpperCase()
}

/** Compares keys in UTF-8 byte order, the order OSS lists in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
