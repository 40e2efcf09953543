// `cache.maxMemoryMiB` (issue 22): one memory budget split among the per-caller caches, and the estimates of
// what one entry costs on V8's heap that lru-cache's `maxSize` + `sizeCalculation` hold each share to.

/** The share of the budget each cache may fill; together exactly 1. */
export const BUDGET_SHARES = {
  /** Verified tokens: the Caller, its claims and its memoized grant. */
  verifiedTokens: 0.3,
  /** Credentials: the secret, the security token and the cache key. */
  credentials: 0.4,
  /** The issued-credential index of explain-denial: the Policy and what it grants. */
  issuedIndex: 0.3,
} as const

export type CacheBudgets = { [K in keyof typeof BUDGET_SHARES]: number }

/** The budget of each cache in bytes. Throws TypeError on a budget that is not a positive number. */
export function cacheBudgets(maxMemoryMiB: number): CacheBudgets {
  if (!(Number.isFinite(maxMemoryMiB) && maxMemoryMiB > 0))
    throw new TypeError('maxMemoryMiB must be a positive number')
  const bytes = maxMemoryMiB * 1024 * 1024
  return {
    verifiedTokens: Math.floor(bytes * BUDGET_SHARES.verifiedTokens),
    credentials: Math.floor(bytes * BUDGET_SHARES.credentials),
    issuedIndex: Math.floor(bytes * BUDGET_SHARES.issuedIndex),
  }
}

/** Bytes one lru-cache slot costs besides its value: the key map's entry and the list arrays' cells. */
export const LRU_SLOT_BYTES = 64

// Anything outside Latin-1 makes V8 store the whole string with two bytes per character.
const TWO_BYTE = /[\u0100-\uffff]/

/** V8's size of a string: a 16-byte header (hash, length) and its characters, rounded up to 8 bytes. */
export function stringBytes(value: string): number {
  const chars = TWO_BYTE.test(value) ? value.length * 2 : value.length
  return (16 + chars + 7) & ~7
}

/**
 * An upper estimate of a JSON-like value's heap size: every string value counted (even shared ones), 16
 * bytes a property or element, a header per object; property names are not (JSON.parse interns them). Values nested deeper than 8 levels count as one header each.
 */
export function valueBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return stringBytes(value)
  if (typeof value !== 'object' || value === null) return 16
  if (depth > 8) return 32
  let total = 32
  for (const child of Object.values(value)) total += 16 + valueBytes(child, depth + 1)
  return total
}
