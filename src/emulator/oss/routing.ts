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

/** The Host header's name, lower-cased, without port or IPv6 brackets; '' when absent. */
function hostName(host: string | undefined): string {
  return (host ?? '')
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
}

const ALIBABA_SUFFIX = '.aliyuncs.com'

function assertKey(key: string): string {
  if (key.startsWith('/') || key.startsWith('\\') || Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new OssError('InvalidObjectName')
  return key
}

function splitPath(path: string): { first: string; rest: string; afterFirst: string | null } {
  const rest = path.slice(1)
  const slash = rest.indexOf('/')
  return {
    first: slash === -1 ? rest : rest.slice(0, slash),
    rest,
    afterFirst: slash === -1 ? null : rest.slice(slash + 1),
  }
}

function virtualHost(config: EmulatorConfig, label: string, rest: string): OssTarget {
  const found = lookup(config, label)
  if (!found) throw new OssError('NoSuchBucket', undefined, { BucketName: label })
  return { name: label, ...found, key: rest === '' ? null : assertKey(rest), style: 'virtual-host' }
}

function pathStyle(config: EmulatorConfig, path: string): OssTarget | null {
  const { first, afterFirst } = splitPath(path)
  if (first === '') return null
  const found = lookup(config, first)
  if (!found) throw new OssError('NoSuchBucket', undefined, { BucketName: first })
  const key = afterFirst ?? ''
  return { name: first, ...found, key: key === '' ? null : assertKey(key), style: 'path' }
}

/**
 * Resolves the target of a request with decoded `path` and `Host` header, as OSS does:
 * - `<bucket>.<endpoint>.aliyuncs.com` is virtual-host addressing (the normal form): the first label
 *   names the bucket or access point alias and the whole path is the key;
 * - an `*.aliyuncs.com` endpoint without a bucket label (`oss-<region>.aliyuncs.com`) takes only
 *   service-level calls: a path naming a bucket is path-style, which public OSS endpoints refuse
 *   with 403 SecondLevelDomainForbidden;
 * - an IP address or `localhost` (or no Host) takes path-style `/<bucket>/<key>`: a dev convenience
 *   only, never what a client of real OSS sends;
 * - any other name is virtual-host too, its first label naming the bucket (`examplebucket.localhost`).
 * The Host decides before the path, so a virtual-host request whose key starts with another
 * bucket's name is never read as path-style. Returns null for a service-level call (no bucket).
 * Throws OssError NoSuchBucket, SecondLevelDomainForbidden, InvalidObjectName.
 */
export function resolveTarget(
  config: EmulatorConfig,
  path: string,
  host: string | undefined,
): OssTarget | null {
  const name = hostName(host)
  const { rest, first } = splitPath(path)
  if (name.endsWith(ALIBABA_SUFFIX)) {
    const labels = name.split('.')
    // `oss-cn-hangzhou.aliyuncs.com` is an endpoint; `<bucket>.oss-cn-hangzhou.aliyuncs.com` names a bucket.
    if (labels.length > 3) return virtualHost(config, labels[0] ?? '', rest)
    if (first === '') return null
    throw new OssError('SecondLevelDomainForbidden')
  }
  if (name === '' || name === 'localhost' || isIP(name) !== 0) return pathStyle(config, path)
  // Any other name (`examplebucket.localhost`, a custom domain): its first label names the bucket.
  return virtualHost(config, name.split('.')[0] ?? '', rest)
}

/** The same bucket or access point, addressing object `key` instead. Throws OssError InvalidObjectName. */
export function withKey(target: OssTarget, key: string): OssTarget {
  return { ...target, key: assertKey(key) }
}

/** A CopyObject source `/<bucket>/<key>`: a bucket or access point alias of the config. Throws NoSuchBucket, InvalidObjectName. */
export function sourceTarget(config: EmulatorConfig, bucket: string, key: string): OssTarget {
  const found = lookup(config, bucket)
  if (!found) throw new OssError('NoSuchBucket', undefined, { BucketName: bucket })
  return { name: bucket, ...found, key: assertKey(key), style: 'virtual-host' }
}
