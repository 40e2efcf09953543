// Operator regular expressions (`matches`, `pattern`): RE2 syntax, run by re2js in time linear in the input.
import { RE2JS } from 're2js'

/** The longest claim value a `matches` condition reads; a longer one is a denial, never a silent non-match. */
export const MATCH_INPUT_MAX = 256

/**
 * The largest pattern accepted, in RE2 program instructions. Matching costs at most about one step
 * per instruction per character, so this bounds the cost of each character an attacker sends.
 * `[a-z0-9][a-z0-9._-]{0,63}` is 129; `.{0,999}` is 1,001 and refused.
 */
export const PATTERN_PROGRAM_MAX = 500

/** A compiled operator pattern: `test` answers whether the whole value matches (anchored at both ends). */
export interface Pattern {
  test(value: string): boolean
  /** RE2 program size: the cost of one character, for the per-request matching budget. */
  readonly cost: number
}

/**
 * Compiles an operator pattern with RE2 semantics (no backreferences, no lookaround: what RE2
 * cannot run in linear time it refuses). The whole value must match: `admin|ops` never matches
 * `admin-evil` (SEC-066). Returns the pattern or why it is refused.
 */
export function compilePattern(source: string): { pattern: Pattern } | { error: string } {
  let re: RE2JS
  try {
    re = RE2JS.compile(source)
  } catch (err) {
    return {
      error: `not a linear-time (RE2) regular expression: ${(err as Error).message} (backreferences and lookaround are not supported)`,
    }
  }
  const cost = re.programSize()
  if (cost > PATTERN_PROGRAM_MAX)
    return {
      error: `compiles to ${cost} RE2 instructions, over the limit of ${PATTERN_PROGRAM_MAX}; use a shorter pattern (or "in" for a list of values)`,
    }
  return { pattern: { test: (value) => re.matches(value), cost } }
}
