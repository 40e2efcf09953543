// `when` conditions: equals, in, contains, matches (anchored), exists — compiled at load, evaluated per caller.
import { parseClaimPath, resolveClaim } from './claims.ts'
import { compilePattern, MATCH_INPUT_MAX, type Pattern } from './regex.ts'
import type { ConditionSpec, Scalar } from './spec.ts'

/** One compiled `when` entry. `failure` is null when the condition holds, else why not (no claim value quoted). */
export interface CompiledCondition {
  readonly claim: string
  failure(claims: Readonly<Record<string, unknown>>): string | null
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

const describe = (v: unknown): string =>
  v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`

/**
 * Compiles one `when` entry. Returns the condition or the problems (bad path, bad or catastrophic
 * regex). Operators given together must all hold. Types are strict: `equals: true` does not match
 * the string "true", and `contains` needs an array claim.
 */
export function compileCondition(
  claim: string,
  config: ConditionSpec,
): { condition: CompiledCondition } | { errors: string[] } {
  const path = parseClaimPath(claim)
  const errors: string[] = []
  if ('error' in path) errors.push(path.error)
  let regex: Pattern | null = null
  if (config.matches !== undefined) {
    const compiled = compilePattern(config.matches)
    if ('error' in compiled) errors.push(`matches: ${compiled.error}`)
    else regex = compiled.pattern
  }
  if ('error' in path || errors.length > 0) return { errors }
  const segments = path.segments
  const checks: ((value: unknown) => string | null)[] = []
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
  if (regex !== null) {
    const re = regex
    // Input capped before matching: the regex never sees more than MATCH_INPUT_MAX characters.
    const test = (s: unknown) => typeof s === 'string' && s.length <= MATCH_INPUT_MAX && re.test(s)
    checks.push((v) => {
      if (typeof v === 'string') return test(v) ? null : 'matches: claim does not match the pattern'
      if (Array.isArray(v)) return v.some(test) ? null : 'matches: no element matches the pattern'
      return `matches: claim is ${describe(v)}`
    })
  }
  return {
    condition: {
      claim,
      failure(claims) {
        const value = resolveClaim(claims, segments)
        for (const check of checks) {
          const why = check(value)
          if (why !== null) return `when.${claim} ${why}`
        }
        return null
      },
    },
  }
}
