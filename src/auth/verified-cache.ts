// Callers of tokens already verified, keyed by the token's sha256, so a repeated token skips the signature check.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Caller } from '../types.ts'

interface Entry {
  caller: Caller
  /** Epoch ms by the injected clock after which the entry is never served. */
  expiresAt: number
}

/**
 * An LRU of verified Callers. The key is the sha256 of the token and the value the Caller: the token
 * itself is never stored. Expiry is checked against the injected clock on every read, so an entry
 * never outlives what its owner (`expiresAt`) allowed. `maxEntries` 0 disables the cache.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, Entry> | undefined
  readonly #now: () => Date

  constructor(maxEntries: number, now: () => Date) {
    this.#entries = maxEntries > 0 ? new LRUCache<string, Entry>({ max: maxEntries }) : undefined
    this.#now = now
  }

  get(token: string): Caller | undefined {
    if (!this.#entries) return undefined
    const key = keyOf(token)
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (this.#now().getTime() >= entry.expiresAt) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.caller
  }

  set(token: string, caller: Caller, expiresAt: number): void {
    if (!this.#entries || this.#now().getTime() >= expiresAt) return
    this.#entries.set(keyOf(token), { caller, expiresAt })
  }

  get size(): number {
    return this.#entries?.size ?? 0
  }
}

function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
