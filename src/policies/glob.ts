// RAM wildcard matching (`*` any run, `?` one character) without regular expressions, so no ReDoS.

/**
 * True when `text` matches `pattern`, where `*` matches any run of characters (including `/` and
 * none) and `?` exactly one. Greedy matching with one backtrack point: O(pattern × text) at worst.
 */
export function globMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const t = ignoreCase ? text.toLowerCase() : text
  let pi = 0
  let ti = 0
  let star = -1
  let mark = 0
  while (ti < t.length) {
    const c = p[pi]
    if (c === '*') {
      star = pi++
      mark = ti
    } else if (c !== undefined && (c === '?' || c === t[ti])) {
      pi++
      ti++
    } else if (star !== -1) {
      pi = star + 1
      ti = ++mark
    } else {
      return false
    }
  }
  while (p[pi] === '*') pi++
  return pi === p.length
}
