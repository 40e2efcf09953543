// The issued-credential index (issue 20): AccessKeyId → who it was issued to and what it grants, kept only
// while the credential lives (plus a short grace so "it expired" can still be answered). Behind a port so
// fleet mode can keep it in Redis; the memory store is an LRU with a TTL on the injected clock.
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { LRU_SLOT_BYTES, stringBytes } from '../cache-budget.ts'
import type { OssTarget } from '../policies/index.ts'
import { createPolicyPacker, type PackedPolicy, unpackPolicy } from './policy-pack.ts'

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
  /**
   * `packed`, when given, is `entry.policy` already packed (a memoized grant's): a store that keeps
   * policies packed shares it instead of packing its own copy (issue 22).
   */
  record(entry: IssuedEntry, packed?: PackedPolicy): Promise<void>
  /** The entry for this AccessKeyId, or null when it was not issued here or is long gone. */
  find(accessKeyId: string): Promise<IssuedEntry | null>
}

export interface MemoryIndexOptions {
  /** Most entries kept; the least recently used goes first. */
  maxEntries: number
  /** Bound on the estimated heap bytes of all entries (issuedEntryBytes); default none. */
  maxBytes?: number
  /** How long an entry outlives its credential, so a late question gets "expired", not 404. Default 3600. */
  graceSeconds?: number
  now?: () => Date
}

export const INDEX_GRACE_SECONDS = 3600

/** An entry as the memory index keeps it: the Policy packed against its rule's dictionary (issue 22). */
interface Stored extends Omit<IssuedEntry, 'policy' | 'policySha256'> {
  policyBytes: string
  policyDictionary: Buffer
}

/**
 * The estimated heap bytes of one stored entry: the slot and its TTL cells, the entry object, the
 * AccessKeyId and the packed Policy. Issuer, subject, rule, target, prefix, access and expiration are the grant's, the config's and the credentials' own values, not copies.
 */
function storedBytes(stored: Stored): number {
  return LRU_SLOT_BYTES + 16 + 120 + stringBytes(stored.accessKeyId) + stringBytes(stored.policyBytes)
}

/** An in-process index with a per-entry TTL of (expiration − now + grace), read on the injected clock. */
export function createMemoryIssuedIndex(options: MemoryIndexOptions): IssuedIndex {
  const now = options.now ?? (() => new Date())
  const graceMs = (options.graceSeconds ?? INDEX_GRACE_SECONDS) * 1000
  const packer = createPolicyPacker()
  const cache = new LRUCache<string, Stored>({
    max: options.maxEntries,
    ...(options.maxBytes === undefined ? {} : { maxSize: options.maxBytes, sizeCalculation: storedBytes }),
    ttlAutopurge: false,
    perf: { now: () => now().getTime() },
  })
  return {
    async record(entry, shared) {
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
      const packed = shared ?? packer.pack(entry.rule, entry.policy)
      // Written out field by field: an object built by rest and spread may come out in dictionary mode.
      const stored: Stored = {
        accessKeyId: entry.accessKeyId,
        issuer: entry.issuer,
        subject: entry.subject,
        rule: entry.rule,
        target: entry.target,
        prefix: entry.prefix,
        access: entry.access,
        policyBytes: packed.bytes,
        policyDictionary: packed.dictionary,
        expiration: entry.expiration,
      }
      cache.set(entry.accessKeyId, stored, { ttl })
    },
    async find(accessKeyId) {
      const stored = cache.get(accessKeyId)
      if (!stored) return null
      const { policyBytes, policyDictionary, ...rest } = stored
      const policy = unpackPolicy({ bytes: policyBytes, dictionary: policyDictionary })
      // The hash is worked out again when asked (rarely) rather than kept per entry (issue 22).
      return { ...rest, policy, policySha256: hash('sha256', policy, 'hex') }
    },
  }
}
