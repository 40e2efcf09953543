// check-config's warning for `selectable` rules: naming a later rule must not give a caller more than its first match.
import { isSubAccess } from './actions.ts'
import { compilePattern } from './regex.ts'
import type { ConditionSpec, Scalar } from './spec.ts'
import { renderTemplate, type Variable } from './template.ts'
import type { CompiledRule } from './types.ts'

/** The scalars a condition allows, or null when it does not restrict to a list (`equals`, `in`, or both). */
function allowedScalars(c: ConditionSpec): readonly Scalar[] | null {
  const fromEquals = c.equals === undefined ? null : [c.equals]
  if (c.in === undefined) return fromEquals
  if (fromEquals === null) return c.in
  return fromEquals.filter((v) => c.in?.includes(v))
}

/** Conditions that need the claim present and of a shape (`equals`, `in`, `contains`, `matches`). */
const needsValue = (c: ConditionSpec): boolean =>
  c.equals !== undefined || c.in !== undefined || c.contains !== undefined || c.matches !== undefined

/** No string of `values` matches `source` (numbers and booleans never match a pattern). */
function noneMatch(values: readonly Scalar[], source: string): boolean {
  const compiled = compilePattern(source)
  if ('error' in compiled) return false
  return !values.some((v) => typeof v === 'string' && compiled.pattern.test(v))
}

/**
 * True only when no claim value can satisfy both conditions on one claim: `exists` true against
 * false, absence against a value test, disjoint `equals`/`in` lists, an array test (`contains`)
 * against a scalar one, or a list none of whose strings matches the other's pattern.
 */
function provablyDisjoint(a: ConditionSpec, b: ConditionSpec): boolean {
  if (a.exists !== undefined && b.exists !== undefined && a.exists !== b.exists) return true
  if ((a.exists === false && needsValue(b)) || (b.exists === false && needsValue(a))) return true
  const sa = allowedScalars(a)
  const sb = allowedScalars(b)
  if (sa !== null && sb !== null && !sa.some((v) => sb.includes(v))) return true
  if ((a.contains !== undefined && sb !== null) || (b.contains !== undefined && sa !== null)) return true
  if (sa !== null && b.matches !== undefined && noneMatch(sa, b.matches)) return true
  if (sb !== null && a.matches !== undefined && noneMatch(sb, a.matches)) return true
  return false
}

/** Conservative: two rules could match one caller unless some claim they both test is provably disjoint. */
export function couldBothMatch(a: CompiledRule, b: CompiledRule): boolean {
  if (a.issuerId !== b.issuerId) return false
  for (const [claim, condition] of Object.entries(a.config.when)) {
    const other = b.config.when[claim]
    if (other !== undefined && provablyDisjoint(condition, other)) return false
  }
  return true
}

/** The prefix with each caller variable as a placeholder and static ones rendered: equal placeholders, equal values. */
function symbolicPrefix(rule: CompiledRule): string {
  return renderTemplate(rule.prefix, (v: Variable) => {
    if (v.kind === 'issuer') return rule.issuerId
    if (v.kind === 'rule') return rule.id
    return `\u0000${v.kind === 'claim' ? `claim.${v.name}` : v.kind}\u0000`
  })
}

/** What `later` grants beyond `earlier` for the same caller (actions × prefixes × bucket), or null when nothing. */
export function grantsMore(later: CompiledRule, earlier: CompiledRule): string | null {
  if (later.location.objectBase !== earlier.location.objectBase)
    return `another ${later.accessPoint === null ? 'bucket' : 'access point'} (${later.bucket})`
  if (!isSubAccess(later.access, earlier.access)) return `more actions (${later.access.name})`
  // Both prefixes end in "/": starting with the earlier one means lying inside it.
  if (!symbolicPrefix(later).startsWith(symbolicPrefix(earlier)))
    return `another prefix (${later.prefix.source}, not under ${earlier.prefix.source})`
  return null
}

/**
 * Design §14: a caller may name a `selectable` rule, skipping the rules before it. Warns (for
 * check-config) about each selectable rule that grants more than an earlier rule of its issuer
 * that the same caller could match, since ordering that earlier rule first meant to restrict them.
 */
export function selectableWarnings(rules: readonly CompiledRule[]): string[] {
  const warnings: string[] = []
  rules.forEach((later, i) => {
    if (!later.selectable) return
    for (const earlier of rules.slice(0, i)) {
      if (!couldBothMatch(earlier, later)) continue
      const more = grantsMore(later, earlier)
      if (more === null) continue
      warnings.push(
        `rule "${later.id}" is selectable and grants ${more} beyond the earlier rule "${earlier.id}", which the same caller could match: such a caller can ask for "${later.id}" by name (make the conditions exclusive, or drop selectable)`,
      )
    }
  })
  return warnings
}
