// The issued-credential index in the fleet's Redis (issue 20), so a credential issued by one replica can be
// explained by any other. The key is an HMAC of the AccessKeyId under the fleet cache key (never the id in
// clear); the value is the entry sealed with AES-256-GCM like the shared cache (it names the subject).
import { createHmac } from 'node:crypto'
import { UpstreamUnavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { IssuedEntry, IssuedIndex } from '../services/issued-index.ts'
import { INDEX_GRACE_SECONDS } from '../services/issued-index.ts'
import type { FleetRedis } from './redis.ts'
import { type CacheKey, openText, sealText } from './sealed-cache.ts'

export interface FleetIndexOptions {
  redis: FleetRedis
  cacheKey: CacheKey
  prefix: string
  logger: Logger
  /** How long an entry outlives its credential. Default INDEX_GRACE_SECONDS (1 h), as the memory index. */
  graceSeconds?: number
  now?: () => Date
}

type Stored = Omit<IssuedEntry, 'expiration'> & { expiration: number }

/**
 * An IssuedIndex over Redis. `record` never fails a credential request: when Redis does not answer, the
 * entry is lost (logged once per outage) and explain-denial will answer 404 for it. `find` rejects with
 * UpstreamUnavailable when Redis does not answer (503, not a false 404).
 */
export function createFleetIssuedIndex(options: FleetIndexOptions): IssuedIndex {
  const { redis, cacheKey, prefix, logger } = options
  const now = options.now ?? (() => new Date())
  const graceMs = (options.graceSeconds ?? INDEX_GRACE_SECONDS) * 1000
  const keyOf = (accessKeyId: string) =>
    `${prefix}ix:${createHmac('sha256', cacheKey.key).update(`sts-vend issued index\0${accessKeyId}`).digest('hex')}`
  const aad = (key: string) => Buffer.from(`sts-vend fleet index v1\0${key}`)
  let failing = false
  return {
    async record(entry) {
      const ttl = Math.floor(entry.expiration.getTime() - now().getTime() + graceMs)
      if (ttl <= 0) return
      const key = keyOf(entry.accessKeyId)
      const stored: Stored = { ...entry, expiration: entry.expiration.getTime() }
      try {
        // NX: a cache hit re-serves the same credential; its entry and TTL stay as first written.
        await redis.send(['SET', key, sealText(cacheKey, aad(key), JSON.stringify(stored)), 'PX', ttl, 'NX'])
        failing = false
      } catch {
        if (!failing)
          logger.warn(
            { event: 'fleet.index_unavailable' },
            'fleet Redis did not answer: issued credentials are not indexed for explain-denial meanwhile',
          )
        failing = true
      }
    },
    async find(accessKeyId) {
      const key = keyOf(accessKeyId)
      let value: unknown
      try {
        value = await redis.send(['GET', key])
      } catch {
        throw new UpstreamUnavailable(1, {
          reason: 'fleet Redis did not answer for the issued-credential index',
        })
      }
      if (typeof value !== 'string') return null
      const opened = openText(cacheKey, aad(key), value)
      if (!('text' in opened)) return null
      const stored = JSON.parse(opened.text) as Stored
      // The sealed id must be the one asked for (an HMAC collision is not a concern; a swapped value is).
      if (stored.accessKeyId !== accessKeyId) return null
      return { ...stored, expiration: new Date(stored.expiration) }
    },
  }
}
