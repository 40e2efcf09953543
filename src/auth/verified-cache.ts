// Callers of tokens already verified, keyed by the token's sha256, so a repeated token skips the signature check.
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { LRU_SLOT_BYTES, stringBytes, valueBytes } from '../cache-budget.ts'
import type { Caller } from '../types.ts'

interface Entry {
  caller: Caller
  /**
   * Epoch seconds by the injected clock from which the entry is never served: the deadline rounded down,
   * so a small integer (no heap number per entry) and never later than allowed.
   */
  expiresAtSeconds: number
}

/**
 * What a caller's memoized default grant adds to its entry (services/issue-memo.ts keeps it on the cached
 * Caller): the grant and its oss object (about 190 bytes), the session name, prefix and policy sha256
 * (about 150), the packed Policy (under 100) and the memo's weak-map slot, rounded up.
 */
export const GRANT_MEMO_BYTES = 512

/** The estimated heap bytes of one entry: the key, the entry, the Caller and its claims, a memoized grant. */
export function verifiedEntryBytes(caller: Caller): number {
  return (
    LRU_SLOT_BYTES + 48 + 32 + 48 + stringBytes(caller.subject) + valueBytes(caller.claims) + GRANT_MEMO_BYTES
  )
}

/**
 * An LRU of verified Callers. The key is the sha256 of the token and the value the Caller: the token
 * itself is never stored. Expiry is checked against the injected clock on every read, so an entry
 * never outlives what its owner (`expiresAt`) allowed. `maxEntries` 0 disables the cache; `maxBytes`
 * bounds the estimated size of all entries (verifiedEntryBytes), the least recently used going first.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, Entry> | undefined
  readonly #now: () => Date

  constructor(maxEntries: number, now: () => Date, maxBytes?: number) {
    this.#entries =
      maxEntries > 0
        ? new LRUCache<string, Entry>({
            max: maxEntries,
            ...(maxBytes === undefined
              ? {}
              : { maxSize: maxBytes, sizeCalculation: (entry: Entry) => verifiedEntryBytes(entry.caller) }),
          })
        : undefined
    this.#now = now
  }

  get(token: string): Caller | undefined {
    if (!this.#entries) return undefined
    const key = keyOf(token)
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (this.#now().getTime() >= entry.expiresAtSeconds * 1000) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.caller
  }

  set(token: string, caller: Caller, expiresAt: number): void {
    if (!this.#entries || this.#now().getTime() >= expiresAt) return
    this.#entries.set(keyOf(token), { caller, expiresAtSeconds: Math.floor(expiresAt / 1000) })
  }

  get size(): number {
    return this.#entries?.size ?? 0
  }

  /** The estimated bytes of all entries (0 without a byte bound). */
  get calculatedSize(): number {
    return this.#entries?.calculatedSize ?? 0
  }
}

/**
 * The full 32-byte digest as a one-byte (latin1) string of 32 characters: the shortest exact key (issue 22).
 * crypto.hash is the one-shot digest: no Hash object per request (issue 22).
 */
function keyOf(token: string): string {
  return hash('sha256', token, 'binary')
}
