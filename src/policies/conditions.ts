// `when` conditions: equals, in, contains, matches (RE2, anchored), exists — compiled at load, evaluated per caller.
import { parseClaimPath, resolveClaim } from './claims.ts'
import { compilePattern, MATCH_INPUT_MAX, type Pattern } from './regex.ts'
import type { ConditionSpec, Scalar } from './spec.ts'

/** The most elements of an array claim a `matches` condition reads; a longer array is a denial. */
export const MATCH_ELEMENTS_MAX = 64

/**
 * A pattern is charged at least this many instructions per character: re2js rebuilds its DFA state
 * at every character on hostile input, a cost that does not shrink with the pattern.
 */
export const MATCH_COST_FLOOR = 100

/**
 * The matching work one request may cost, in characters × max(pattern instructions, 100), summed
 * over every `matches` condition evaluated for it (elements × length × pattern size): 2^17, so at
 * most 1,310 characters through small patterns. The slowest rate measured (DFA rebuilt at every
 * character) is about 0.4 µs per unit: about 55 ms of one core; ordinary claims take well under 1 ms.
 */
export const MATCH_WORK_MAX = 131_072

/** What is left of one request's matching budget; `matchRules` starts one per decision. */
export interface MatchBudget {
  left: number
}

export const newMatchBudget = (): MatchBudget => ({ left: MATCH_WORK_MAX })

/**
 * A `matches` condition could not be decided within the limits (a value over 256 characters, an
 * array over 64 elements, or the request's budget spent). Never a silent non-match: that would
 * let the caller fall through to a later rule the operator ordered after this one.
 */
export class MatchLimitExceeded extends Error {
  constructor(readonly why: string) {
    super(why)
    this.name = 'MatchLimitExceeded'
  }
}

/** One compiled `when` entry. `failure` is null when the condition holds, else why not (no claim value quoted). */
export interface CompiledCondition {
  readonly claim: string
  /** Throws MatchLimitExceeded when a `matches` check would go over its limits. */
  failure(claims: Readonly<Record<string, unknown>>, budget: MatchBudget): string | null
}

type Check = (value: unknown, budget: MatchBudget) => string | null

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

const describe = (v: unknown): string =>
  v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`

/** The `matches` check: a string claim, or any string element of an array claim, matches the whole pattern. */
function matchesCheck(pattern: Pattern): Check {
  const perCharacter = Math.max(pattern.cost, MATCH_COST_FLOOR)
  const test = (s: string, budget: MatchBudget): boolean => {
    if (s.length > MATCH_INPUT_MAX)
      throw new MatchLimitExceeded(`a value is longer than ${MATCH_INPUT_MAX} characters`)
    budget.left -= Math.max(1, s.length) * perCharacter
    if (budget.left < 0) throw new MatchLimitExceeded('the request spent its matching budget')
    return pattern.test(s)
  }
  return (v, budget) => {
    if (typeof v === 'string') return test(v, budget) ? null : 'matches: claim does not match the pattern'
    if (!Array.isArray(v)) return `matches: claim is ${describe(v)}`
    if (v.length > MATCH_ELEMENTS_MAX)
      throw new MatchLimitExceeded(`an array claim has more than ${MATCH_ELEMENTS_MAX} elements`)
    return v.some((s) => typeof s === 'string' && test(s, budget))
      ? null
      : 'matches: no element matches the pattern'
  }
}

/** The checks of the operators given, in a fixed order. */
function operatorChecks(config: ConditionSpec, pattern: Pattern | null): Check[] {
  const checks: Check[] = []
  if (config.exists !== undefined) {
    const want = config.exists
    checks.push((v) =>
      want === (v !== undefined) ? null : `exists: claim is ${want ? 'missing' : 'present'}`,
    )
  }
  if (config.equals !== undefined) {
    const want = config.equals
    checks.push((v) => {
      if (!isScalar(v)) return `equals: claim is ${describe(v)}`
      return v === want ? null : 'equals: claim differs from the expected value'
    })
  }
  if (config.in !== undefined) {
    const list: readonly Scalar[] = config.in
    checks.push((v) => {
      if (!isScalar(v)) return `in: claim is ${describe(v)}`
      return list.includes(v) ? null : 'in: claim is not one of the listed values'
    })
  }
  if (config.contains !== undefined) {
    const want = config.contains
    checks.push((v) => {
      if (!Array.isArray(v)) return `contains: claim is ${describe(v)}, not an array`
      return v.includes(want) ? null : 'contains: no element equals the expected value'
    })
  }
  if (pattern !== null) checks.push(matchesCheck(pattern))
  return checks
}

/** A problem of one `when` entry: `at` is `''` for the entry itself or `.matches` for its pattern. */
export interface ConditionProblem {
  at: '' | '.matches'
  message: string
}

/**
 * Compiles one `when` entry. Returns the condition or the problems (bad path, a pattern RE2
 * refuses or too large). Operators given together must all hold. Types are strict: `equals: true`
 * does not match the string "true", and `contains` needs an array claim.
 */
export function compileCondition(
  claim: string,
  config: ConditionSpec,
): { condition: CompiledCondition } | { errors: ConditionProblem[] } {
  const path = parseClaimPath(claim)
  const errors: ConditionProblem[] = []
  if ('error' in path) errors.push({ at: '', message: path.error })
  let pattern: Pattern | null = null
  if (config.matches !== undefined) {
    const compiled = compilePattern(config.matches)
    if ('error' in compiled) errors.push({ at: '.matches', message: compiled.error })
    else pattern = compiled.pattern
  }
  if ('error' in path || errors.length > 0) return { errors }
  const segments = path.segments
  const checks = operatorChecks(config, pattern)
  return {
    condition: {
      claim,
      failure(claims, budget) {
        const value = resolveClaim(claims, segments)
        for (const check of checks) {
          const why = check(value, budget)
          if (why !== null) return `when.${claim} ${why}`
        }
        return null
      },
    },
  }
}
