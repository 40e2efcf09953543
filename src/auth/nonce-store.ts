// The seen-nonce store of Alibaba identity logins (issue 21): each signed request is accepted once.

/** Where seen nonces are kept for as long as their request could still pass the date check. */
export interface NonceStore {
  /**
   * Records `key` for `ttlMs`; resolves true the first time, false when it is already recorded (a replay).
   * A store that cannot answer rejects: the login then fails closed.
   */
  claim(key: string, ttlMs: number): Promise<boolean>
}

/**
 * One process's nonces in memory, each dropped when its time is up. Bounded: when `maxEntries` live
 * nonces are held, a new one is refused (rejects), never an old one forgotten early (which would
 * re-open its replay). Fleet mode would put the same interface over Redis `SET key 1 NX PX ttl`.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #seen = new Map<string, number>()
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000
    this.#now = options.now ?? Date.now
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now()
    const until = this.#seen.get(key)
    if (until !== undefined && until > now) return false
    if (this.#seen.size >= this.#maxEntries) this.#prune(now)
    if (this.#seen.size >= this.#maxEntries) throw new Error('nonce store full')
    this.#seen.set(key, now + Math.max(1, ttlMs))
    return true
  }

  get size(): number {
    return this.#seen.size
  }

  #prune(now: number): void {
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key)
  }
}
