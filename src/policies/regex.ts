// Operator regular expressions (`matches`, `pattern`): anchored, and refused when they can backtrack catastrophically.

/** Claim values longer than this never match a `matches` condition (bounds the regex work, SEC-067). */
export const MATCH_INPUT_MAX = 256

/**
 * Finds the constructs that make a backtracking engine exponential: a repeated group that itself
 * contains a repetition or an alternation (`(a+)+`, `(a|aa)*`), and backreferences. Returns why, or null.
 * Conservative on purpose: claim patterns are short, and a refused pattern can always be rewritten.
 */
export function catastrophicRegexReason(source: string): string | null {
  // One frame per open group: whether it contains a repetition or an alternation.
  const frames: { repeats: boolean; alternates: boolean }[] = [{ repeats: false, alternates: false }]
  let lastGroup: { repeats: boolean; alternates: boolean } | null = null
  let i = 0
  const quantifierAt = (at: number): { length: number; repeats: boolean } | null => {
    const c = source[at]
    if (c === '*' || c === '+') return { length: 1, repeats: true }
    if (c === '?') return { length: 1, repeats: false }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at))
      if (!m) return null
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3])
      return { length: m[0].length, repeats: max > 1 }
    }
    return null
  }
  while (i < source.length) {
    const c = source[i]
    const frame = frames[frames.length - 1]
    if (!frame) return 'unbalanced parentheses'
    let atomWasGroup = false
    if (c === '\\') {
      const next = source[i + 1] ?? ''
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed'
      i += 2
    } else if (c === '[') {
      i++
      if (source[i] === '^') i++
      if (source[i] === ']') i++
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1
      i++
    } else if (c === '(') {
      frames.push({ repeats: false, alternates: false })
      i++
      if (source[i] === '?') {
        // (?:, (?=, (?!, (?<=, (?<!, (?<name>
        i++
        if (source[i] === '<' && source[i + 1] !== '=' && source[i + 1] !== '!') {
          const close = source.indexOf('>', i)
          i = close === -1 ? source.length : close + 1
        } else i++
      }
      continue
    } else if (c === ')') {
      const closed = frames.pop()
      if (!closed || frames.length === 0) return 'unbalanced parentheses'
      lastGroup = closed
      atomWasGroup = true
      i++
    } else if (c === '|') {
      frame.alternates = true
      i++
      continue
    } else {
      i++
    }
    const q = quantifierAt(i)
    const current = frames[frames.length - 1]
    if (!current) return 'unbalanced parentheses'
    if (atomWasGroup && lastGroup) {
      if (q?.repeats && (lastGroup.repeats || lastGroup.alternates))
        return 'a repeated group contains a repetition or an alternation (catastrophic backtracking)'
      if (lastGroup.repeats) current.repeats = true
      if (lastGroup.alternates) current.alternates = true
    }
    if (q) {
      if (q.repeats) current.repeats = true
      i += q.length
      if (source[i] === '?') i++
    }
  }
  if (frames.length !== 1) return 'unbalanced parentheses'
  return null
}

/** Compiles `source` anchored as `^(?:source)$` with the `u` flag. Throws SyntaxError when invalid. */
export function compileAnchored(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u')
}

/** A compiled operator pattern: `test` answers whether the whole value matches. */
export interface Pattern {
  test(value: string): boolean
}

/** Compiles an operator pattern (`matches`, `pattern`), or says why it is refused. */
export function compilePattern(source: string): { pattern: Pattern } | { error: string } {
  const unsafe = catastrophicRegexReason(source)
  if (unsafe) return { error: unsafe }
  try {
    return { pattern: compileAnchored(source) }
  } catch (err) {
    return { error: `invalid regular expression: ${(err as Error).message}` }
  }
}
