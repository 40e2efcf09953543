// Which bucket or access point a request addresses: path-style (`/bucket/key`) or virtual-host (`Host: bucket.…`).
import { isIP } from 'node:net'
import type { EmulatorConfig } from '../config.ts'
import { OssError } from './errors.ts'

export type EmulatorBucket = EmulatorConfig['buckets'][number]
export type EmulatorAccessPoint = EmulatorConfig['accessPoints'][number]

/** What the request addresses. */
export interface OssTarget {
  /** The name as addressed: the bucket name, or the access point alias. It is what signatures cover. */
  name: string
  bucket: EmulatorBucket
  /** The access point when `name` is an alias, else null. */
  accessPoint: EmulatorAccessPoint | null
  /** The object key, or null for a bucket-level request. */
  key: string | null
  style: 'path' | 'virtual-host'
}

/** OSS object names are 1-1023 bytes and may not start with `/` or `\`. */
const MAX_KEY_BYTES = 1023

function lookup(
  config: EmulatorConfig,
  name: string,
): { bucket: EmulatorBucket; accessPoint: EmulatorAccessPoint | null } | undefined {
  const bucket = config.buckets.find((b) => b.name === name)
  if (bucket) return { bucket, accessPoint: null }
  const accessPoint = config.accessPoints.find((ap) => ap.alias === name)
  const owner = accessPoint && config.buckets.find((b) => b.name === accessPoint.bucket)
  return accessPoint && owner ? { bucket: owner, accessPoint } : undefined
}

function hostLabel(host: string | undefined): string | null {
  if (!host) return null
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  if (isIP(name) !== 0) return null
  const labels = name.split('.')
  return labels.length >= 2 ? (labels[0] ?? null) : null
}

function assertKey(key: string): string {
  if (key.startsWith('/') || key.startsWith('\\') || Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new OssError('InvalidObjectName')
  return key
}

/**
 * Resolves the target of a request with decoded `path` and `Host` header. Path-style wins whenever
 * the first path segment is a known bucket or access point alias: ali-oss sends
 * `Host: <bucket>.oss-<region>.aliyuncs.com` even on path-style requests to an IP endpoint.
 * Otherwise the first label of a (non-IP) Host names the bucket. Returns null for a request that
 * names no bucket at all (a service-level call such as ListBuckets).
 * Throws OssError NoSuchBucket for an unknown name, InvalidObjectName for a key OSS refuses.
 */
export function resolveTarget(
  config: EmulatorConfig,
  path: string,
  host: string | undefined,
): OssTarget | null {
  const rest = path.slice(1)
  const slash = rest.indexOf('/')
  const first = slash === -1 ? rest : rest.slice(0, slash)
  const byPath = first === '' ? undefined : lookup(config, first)
  if (byPath) {
    const key = slash === -1 ? '' : rest.slice(slash + 1)
    return { name: first, ...byPath, key: key === '' ? null : assertKey(key), style: 'path' }
  }
  const label = hostLabel(host)
  const byHost = label === null ? undefined : lookup(config, label)
  if (byHost && label !== null)
    return { name: label, ...byHost, key: rest === '' ? null : assertKey(rest), style: 'virtual-host' }
  if (label === null && first === '') return null
  throw new OssError('NoSuchBucket', undefined, { BucketName: first !== '' ? first : (label ?? '') })
}
