// The credential cache of design §8: LRU, keyed per (issuer, subject, role, session, policy, external id, duration), singleflight.
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { LRU_SLOT_BYTES, stringBytes } from '../cache-budget.ts'
import type { CredentialSource, StsCredentials } from '../types.ts'

/**
 * What makes two requests share credentials. Issuer and subject are part of it so that two callers
 * never share one credential and every issued key traces to one subject.
 */
export interface CredentialCacheKey {
  issuerId: string
  subject: string
  roleArn: string
  sessionName: string
  /** Lowercase hex sha256 of the exact Policy string sent to STS. */
  policySha256: string
  externalId: string | null
  durationSeconds: number
  /**
   * The rule the grant came from. Not part of what makes two requests share credentials (the fields
   * above are): kept with the entry so that a rule's entries can be evicted (deny list, reload).
   */
  ruleId?: string
}

export interface CredentialCacheOptions {
  /** LRU bound. */
  maxEntries: number
  /** Bound on the estimated heap bytes of all entries (credentialEntryBytes); default none. */
  maxBytes?: number
  /** Never serve an entry with this little life left (design §3: < 900). */
  minRemainingSeconds: number
  now?: () => Date
}

export interface CredentialCacheStats {
  size: number
  /** The estimated heap bytes of the entries (0 without maxBytes). */
  bytes: number
  /** Served from the cache. */
  hits: number
  /** Requests that started a load. */
  misses: number
  /** Requests that joined a load already in flight for their key (singleflight). */
  joined: number
  /** Entries found with minRemainingSeconds or less left, dropped instead of served. */
  stale: number
  /** Loads that failed (nothing cached). */
  failures: number
}

export interface CredentialCache {
  /**
   * The cached credentials for `key` when more than minRemainingSeconds remain; otherwise runs `load`
   * once for all concurrent callers of the same key and caches its result. A failed load is never
   * cached: every joined caller gets the error, the next call loads again. `cache` is `miss` for the
   * caller that loaded, `hit` for callers served without a new load (cached or joined).
   */
  getOrLoad(
    key: CredentialCacheKey,
    load: () => Promise<StsCredentials>,
  ): Promise<{ credentials: StsCredentials; cache: 'hit' | 'miss'; source?: CredentialSource }>
  /** True when `credentials` may still be served (more than minRemainingSeconds left). */
  isFresh(credentials: StsCredentials): boolean
  stats(): CredentialCacheStats
  /**
   * Drops every entry whose key matches, and lets no load in flight for such a key be cached when it
   * completes (its callers still get its result). Returns how many entries were dropped.
   */
  evict(match: (key: EvictionKey) => boolean): number
}

/** What an eviction is decided on: who the credentials were issued to, and under which rule. */
export type EvictionKey = Pick<CredentialCacheKey, 'issuerId' | 'subject' | 'ruleId'>

/** The cache key as a string: a JSON tuple, so no field can run into the next. */
export function cacheKeyString(key: CredentialCacheKey): string {
  return JSON.stringify([
    key.issuerId,
    key.subject,
    key.roleArn,
    key.sessionName,
    key.policySha256,
    key.externalId,
    key.durationSeconds,
  ])
}

/**
 * Where an entry is kept: the sha256 of cacheKeyString as a 32-character one-byte string. The full digest
 * of the exact key, so distinct keys never share a slot; 48 bytes instead of a ~200-character tuple.
 */
function slotOf(key: CredentialCacheKey): string {
  // One-shot: no Hash object per request (it is computed on every hit).
  return hash('sha256', cacheKeyString(key), 'binary')
}

/** One cached credential with the key fields evictions match on (one object: issue 22). */
interface Entry {
  issuerId: string
  subject: string
  ruleId?: string
  credentials: StsCredentials
}

function entryOf(key: CredentialCacheKey, credentials: StsCredentials): Entry {
  const entry: Entry = { issuerId: key.issuerId, subject: key.subject, credentials }
  if (key.ruleId !== undefined) entry.ruleId = key.ruleId
  return entry
}

/**
 * The estimated heap bytes of one entry: the slot and its key, the entry (its issuer, subject and rule
 * strings are the caller's and the config's), the credentials object, its strings and its Date.
 */
export function credentialEntryBytes({ credentials: c }: Entry): number {
  const strings =
    stringBytes(c.accessKeyId) +
    stringBytes(c.accessKeySecret) +
    stringBytes(c.securityToken) +
    stringBytes(c.requestId)
  return LRU_SLOT_BYTES + 48 + 56 + 64 + 96 + strings
}

/** Creates an empty cache. Throws TypeError on a maxEntries below 1 or a negative minRemainingSeconds. */
export function createCredentialCache(options: CredentialCacheOptions): CredentialCache {
  if (!(Number.isInteger(options.maxEntries) && options.maxEntries >= 1))
    throw new TypeError('maxEntries must be ≥ 1')
  if (!(options.minRemainingSeconds >= 0)) throw new TypeError('minRemainingSeconds must be ≥ 0')
  const now = options.now ?? (() => new Date())
  const entries = new LRUCache<string, Entry>({
    max: options.maxEntries,
    ...(options.maxBytes === undefined
      ? {}
      : { maxSize: options.maxBytes, sizeCalculation: credentialEntryBytes }),
  })
  const inFlight = new Map<string, { key: CredentialCacheKey; promise: Promise<StsCredentials> }>()
  /** Loads whose key was evicted while they ran: their result is handed out but never cached. */
  const doomed = new WeakSet<Promise<StsCredentials>>()
  const counts = { hits: 0, misses: 0, joined: 0, stale: 0, failures: 0 }
  const isFresh = (c: StsCredentials) =>
    c.expiration.getTime() - now().getTime() > options.minRemainingSeconds * 1000

  return {
    async getOrLoad(key, load) {
      const id = slotOf(key)
      const cached = entries.get(id)?.credentials
      if (cached) {
        if (isFresh(cached)) {
          counts.hits += 1
          return { credentials: cached, cache: 'hit' }
        }
        counts.stale += 1
        entries.delete(id)
      }
      const pending = inFlight.get(id)
      if (pending) {
        counts.joined += 1
        return { credentials: await pending.promise, cache: 'hit' }
      }
      counts.misses += 1
      // Registered before `load` runs, so even a synchronous throw cannot leave a stale in-flight entry.
      const loading: Promise<StsCredentials> = Promise.resolve()
        .then(load)
        .then(
          (credentials) => {
            if (!doomed.has(loading)) entries.set(id, entryOf(key, credentials))
            return credentials
          },
          (err: unknown) => {
            counts.failures += 1
            throw err
          },
        )
        .finally(() => {
          if (inFlight.get(id)?.promise === loading) inFlight.delete(id)
        })
      inFlight.set(id, { key, promise: loading })
      return { credentials: await loading, cache: 'miss' }
    },
    isFresh,
    stats: () => ({ size: entries.size, bytes: entries.calculatedSize, ...counts }),
    evict(match) {
      let dropped = 0
      for (const [id, entry] of entries.entries()) {
        if (!match(entry)) continue
        entries.delete(id)
        dropped += 1
      }
      for (const [id, pending] of inFlight) {
        if (!match(pending.key)) continue
        doomed.add(pending.promise)
        inFlight.delete(id)
      }
      return dropped
    },
  }
}
