// The issued-credential index (issue 20): AccessKeyId → who it was issued to and what it grants, kept only
// while the credential lives (plus a short grace so "it expired" can still be answered). Behind a port so
// fleet mode can keep it in Redis; the memory store is an LRU with a TTL on the injected clock.
import { LRUCache } from 'lru-cache'
import type { OssTarget } from '../policies/index.ts'

/** One issued credential, as explain-denial needs it. Never the secret or the token. */
export interface IssuedEntry {
  accessKeyId: string
  /** The token's `iss` and `sub` the credential was issued to. */
  issuer: string
  subject: string
  rule: string
  /** Where it points (bucket or access point, region, account). */
  target: OssTarget
  /** The rendered (possibly narrowed) prefix or single key. */
  prefix: string
  /** The preset name, or `custom`. */
  access: string
  /** The exact Policy string sent to STS, and its sha256. */
  policy: string
  policySha256: string
  expiration: Date
}

/** The port: a memory LRU here, the fleet's Redis later. Both methods may be asynchronous. */
export interface IssuedIndex {
  record(entry: IssuedEntry): Promise<void>
  /** The entry for this AccessKeyId, or null when it was not issued here or is long gone. */
  find(accessKeyId: string): Promise<IssuedEntry | null>
}

export interface MemoryIndexOptions {
  /** Most entries kept; the least recently used goes first. */
  maxEntries: number
  /** How long an entry outlives its credential, so a late question gets "expired", not 404. Default 3600. */
  graceSeconds?: number
  now?: () => Date
}

export const INDEX_GRACE_SECONDS = 3600

/** An in-process index with a per-entry TTL of (expiration − now + grace), read on the injected clock. */
export function createMemoryIssuedIndex(options: MemoryIndexOptions): IssuedIndex {
  const now = options.now ?? (() => new Date())
  const graceMs = (options.graceSeconds ?? INDEX_GRACE_SECONDS) * 1000
  const cache = new LRUCache<string, IssuedEntry>({
    max: options.maxEntries,
    ttlAutopurge: false,
    perf: { now: () => now().getTime() },
  })
  return {
    async record(entry) {
      const ttl = entry.expiration.getTime() - now().getTime() + graceMs
      if (ttl <= 0) return
      const known = cache.get(entry.accessKeyId)
      // A cache hit re-serves the same credential: keep its slot and TTL, just touch it.
      if (
        known &&
        known.issuer === entry.issuer &&
        known.subject === entry.subject &&
        known.rule === entry.rule
      )
        return
      cache.set(entry.accessKeyId, entry, { ttl })
    },
    async find(accessKeyId) {
      return cache.get(accessKeyId) ?? null
    },
  }
}
