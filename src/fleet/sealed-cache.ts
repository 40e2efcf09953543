// The fleet's shared credential cache: entries sealed with AES-256-GCM, under hashed Redis keys.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../config/index.ts'
import type { Logger } from '../logger.ts'
import { type CredentialCacheKey, cacheKeyString } from '../sts/credential-cache.ts'
import type { StsCredentials } from '../types.ts'
import type { FleetRedis } from './redis.ts'

/** The sealing key and its id (the first 8 hex digits of its sha256): never logged, never stored. */
export interface CacheKey {
  kid: string
  key: Buffer
}

/** Reads fleet.cacheKeyFile: 32 random bytes, base64. Throws ConfigError (never quoting the file's content). */
export function loadCacheKey(file: string): CacheKey {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new ConfigError([{ path: 'fleet.cacheKeyFile', message: `cannot read ${file}: ${code}` }])
  }
  const trimmed = text.trim()
  const key = Buffer.from(trimmed, 'base64')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new ConfigError([
      {
        path: 'fleet.cacheKeyFile',
        message: `${file} must hold 32 random bytes, base64 (openssl rand -base64 32)`,
      },
    ])
  }
  return { kid: createHash('sha256').update(key).digest('hex').slice(0, 8), key }
}

export interface SealedCacheOptions {
  redis: FleetRedis
  cacheKey: CacheKey
  /** Prefix of every Redis key of this fleet. */
  prefix: string
  minRemainingSeconds: number
  logger: Logger
  now?: () => Date
}

export interface SealedLookup {
  credentials: StsCredentials | null
  /** The grant was served by the fleet before (its entry expired for refresh): its next call is a refresh. */
  refresh: boolean
}

export interface SealedCache {
  /** The Redis key suffix for `key`: HMAC-SHA256 under the cache key, so the grant never shows in clear. */
  hashOf(key: CredentialCacheKey): string
  /** The entry for `hash`, opened and checked; a missing, unopenable or stale entry is a miss. */
  get(hash: string): Promise<SealedLookup>
  /** Stores sealed credentials until expiration − minRemainingSeconds (nothing when that has passed). */
  put(hash: string, credentials: StsCredentials): Promise<void>
  delete(hash: string): Promise<void>
}

const VERSION = 'v1'
// After an entry's TTL ends, a marker (no secret) remembers for this long that the grant was served.
const REFRESH_MARKER_MS = 60 * 60 * 1000

// One script, not MULTI: the connection is shared, and another caller's command could land inside a MULTI.
const PUT_SCRIPT = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1`

interface Plain {
  i: string
  s: string
  t: string
  e: number
  r: string
}

/** `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url): `text` sealed with AES-256-GCM, bound to `aad`. */
export function sealText(cacheKey: CacheKey, aad: Buffer, text: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', cacheKey.key, iv)
  cipher.setAAD(aad)
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  const parts = [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url'))
  return [VERSION, cacheKey.kid, ...parts].join('.')
}

/** The text sealed in `value`, or why it cannot be had (another key, another format, tampering). */
export function openText(
  cacheKey: CacheKey,
  aad: Buffer,
  value: string,
): { text: string } | { kid: string; why: string } {
  const [version, kid = '?', iv, body, tag] = value.split('.')
  if (version !== VERSION || !iv || !body || !tag) return { kid, why: 'unknown format' }
  if (kid !== cacheKey.kid) return { kid, why: 'sealed under another cache key' }
  try {
    const decipher = createDecipheriv('aes-256-gcm', cacheKey.key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(aad)
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return {
      text: Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      ),
    }
  } catch {
    return { kid, why: 'does not open' }
  }
}

/** The whole credential, sealed. */
function sealCredentials(cacheKey: CacheKey, aad: Buffer, c: StsCredentials): string {
  const plain: Plain = {
    i: c.accessKeyId,
    s: c.accessKeySecret,
    t: c.securityToken,
    e: c.expiration.getTime(),
    r: c.requestId,
  }
  return sealText(cacheKey, aad, JSON.stringify(plain))
}

/** The credentials sealed in `value`, or why they cannot be had. */
function openSealed(
  cacheKey: CacheKey,
  aad: Buffer,
  value: string,
): { credentials: StsCredentials } | { kid: string; why: string } {
  const opened = openText(cacheKey, aad, value)
  if (!('text' in opened)) return opened
  try {
    const p = JSON.parse(opened.text) as Plain
    const credentials: StsCredentials = {
      accessKeyId: p.i,
      accessKeySecret: p.s,
      securityToken: p.t,
      expiration: new Date(p.e),
      requestId: p.r,
    }
    return { credentials }
  } catch {
    return { kid: cacheKey.kid, why: 'does not open' }
  }
}

/** Creates the sealed cache. Every Redis error is a FleetRedisError for the caller to handle. */
export function createSealedCache(options: SealedCacheOptions): SealedCache {
  const { redis, cacheKey, prefix, logger } = options
  const now = options.now ?? (() => new Date())
  const entryKey = (hash: string) => `${prefix}c:${hash}`
  const markerKey = (hash: string) => `${prefix}r:${hash}`
  const aad = (hash: string) => Buffer.from(`sts-vend fleet ${VERSION}\0${entryKey(hash)}`)
  const logged = new Set<string>()
  const logOnce = (given: string, why: string) => {
    // The kid comes from Redis: only a well-formed one is logged.
    const kid = /^[0-9a-f]{8}$/.test(given) ? given : 'malformed'
    const tag = `${kid}:${why}`
    if (logged.has(tag) || logged.size >= 64) return
    logged.add(tag)
    logger.warn({ event: 'fleet.cache_unreadable', kid, reason: why }, 'sealed cache entry treated as a miss')
  }

  const open = (hash: string, value: string): StsCredentials | null => {
    const opened = openSealed(cacheKey, aad(hash), value)
    if ('credentials' in opened) return opened.credentials
    logOnce(opened.kid, opened.why)
    return null
  }

  const servableMs = (c: StsCredentials) =>
    c.expiration.getTime() - options.minRemainingSeconds * 1000 - now().getTime()

  return {
    hashOf: (key) =>
      createHmac('sha256', cacheKey.key)
        .update(`sts-vend cache key\0${cacheKeyString(key)}`)
        .digest('hex'),
    async get(hash) {
      const [value, marker] = (await redis.send(['MGET', entryKey(hash), markerKey(hash)])) as (
        | string
        | null
      )[]
      const credentials = typeof value === 'string' ? open(hash, value) : null
      // Checked on read as well as by the TTL: clocks differ, and a TTL can outlive its expiration.
      if (credentials && servableMs(credentials) > 0) return { credentials, refresh: true }
      return { credentials: null, refresh: typeof marker === 'string' }
    },
    async put(hash, credentials) {
      const ttl = Math.floor(servableMs(credentials))
      if (ttl <= 0) return
      const value = sealCredentials(cacheKey, aad(hash), credentials)
      await redis.send([
        'EVAL',
        PUT_SCRIPT,
        2,
        entryKey(hash),
        markerKey(hash),
        value,
        ttl,
        ttl + REFRESH_MARKER_MS,
      ])
    },
    async delete(hash) {
      await redis.send(['DEL', entryKey(hash), markerKey(hash)])
    },
  }
}
