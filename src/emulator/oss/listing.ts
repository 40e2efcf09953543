// Listing keys as OSS does: prefix, delimiter (common prefixes), an exclusive start marker, max-keys, truncation.
import { compareKeys } from './store.ts'

export interface ListingQuery {
  prefix: string
  /** '' for none. */
  delimiter: string
  /** List only names after this one (exclusive); '' from the start. */
  after: string
  maxKeys: number
}

export interface Listing {
  /** Keys listed, in order. */
  keys: string[]
  /** Common prefixes (each ends with the delimiter), in order. */
  prefixes: string[]
  truncated: boolean
  /** The last name returned (key or common prefix), to resume after; null when not truncated. */
  next: string | null
}

/**
 * Lists `names` (any order): those starting with `prefix` and after `after`, rolling each name whose
 * remainder after the prefix contains the delimiter into its common prefix (counted once, and not
 * again once the marker is at or past it), until `maxKeys` entries.
 */
export function listNames(names: Iterable<string>, query: ListingQuery): Listing {
  const sorted = [...names]
    .filter((n) => n.startsWith(query.prefix) && (query.after === '' || compareKeys(n, query.after) > 0))
    .sort(compareKeys)
  const keys: string[] = []
  const prefixes: string[] = []
  let last: string | null = null
  for (const name of sorted) {
    let entry = name
    let isPrefix = false
    if (query.delimiter !== '') {
      const at = name.indexOf(query.delimiter, query.prefix.length)
      if (at !== -1) {
        entry = name.slice(0, at + query.delimiter.length)
        isPrefix = true
        if (entry === last || (query.after !== '' && compareKeys(entry, query.after) <= 0)) continue
      }
    }
    if (keys.length + prefixes.length >= query.maxKeys) return { keys, prefixes, truncated: true, next: last }
    if (isPrefix) prefixes.push(entry)
    else keys.push(entry)
    last = entry
  }
  return { keys, prefixes, truncated: false, next: null }
}
