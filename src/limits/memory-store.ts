// The in-memory fixed-window store of the rate limits: express-rate-limit's MemoryStore semantics (a window
// per key from its first hit, idle keys dropped in bulk), in about a third of its memory per key.
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit'

/** Hits in the key's window and when it ends, in ms after the store's `base` (a small integer, no Date). */
interface Slot {
  hits: number
  resetAt: number
}

/**
 * Keys live in `current` while used and move to `previous` at each window tick; what is left in
 * `previous` a tick later has been idle a whole window and is dropped. A key costs its string, one map
 * entry and a two-integer Slot: about 100 bytes, against about 200 for express-rate-limit's Client with
 * its Date (the per-subject limit holds one per active caller: issue 22).
 */
export class CompactMemoryStore implements Store {
  readonly localKeys = true
  #windowMs = 60_000
  #previous = new Map<string, Slot>()
  #current = new Map<string, Slot>()
  #timer: NodeJS.Timeout | undefined
  readonly #base = Date.now()

  init(options: Options): void {
    this.#windowMs = options.windowMs
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = setInterval(() => {
      this.#previous = this.#current
      this.#current = new Map()
    }, this.#windowMs)
    this.#timer.unref()
  }

  #slot(key: string): Slot {
    let slot = this.#current.get(key)
    if (!slot) {
      slot = this.#previous.get(key) ?? { hits: 0, resetAt: 0 }
      this.#previous.delete(key)
      this.#current.set(key, slot)
    }
    return slot
  }

  #info(slot: Slot): ClientRateLimitInfo {
    return { totalHits: slot.hits, resetTime: new Date(this.#base + slot.resetAt) }
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const slot = this.#current.get(key) ?? this.#previous.get(key)
    if (!slot || this.#base + slot.resetAt <= Date.now()) return undefined
    return this.#info(slot)
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const slot = this.#slot(key)
    const now = Date.now() - this.#base
    if (slot.resetAt <= now) {
      slot.hits = 0
      slot.resetAt = now + this.#windowMs
    }
    slot.hits += 1
    return this.#info(slot)
  }

  async decrement(key: string): Promise<void> {
    const slot = this.#slot(key)
    if (slot.hits > 0) slot.hits -= 1
  }

  async resetKey(key: string): Promise<void> {
    this.#current.delete(key)
    this.#previous.delete(key)
  }

  /** Keys held (active in this window or the last). */
  get size(): number {
    return this.#current.size + this.#previous.size
  }
}
