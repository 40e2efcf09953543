// Rule selection: ordered rules of the caller's issuer, first match wins; a rule named by the caller must be selectable and match.
import { AccessDenied } from '../errors.ts'
import type { Caller } from '../types.ts'
import { type MatchBudget, MatchLimitExceeded, newMatchBudget } from './conditions.ts'
import { DENIAL_REASONS } from './errors.ts'
import type { CompiledRule, RuleTrace } from './types.ts'

/** Evaluates one rule's conditions; throws MatchLimitExceeded when a `matches` goes over its limits. */
function evaluate(rule: CompiledRule, caller: Caller, budget: MatchBudget): RuleTrace {
  for (const condition of rule.when) {
    const failure = condition.failure(caller.claims, budget)
    if (failure !== null) return { id: rule.id, matched: false, reason: failure }
  }
  return {
    id: rule.id,
    matched: true,
    reason: rule.when.length === 0 ? 'matched: the rule has no conditions' : 'matched: every condition holds',
  }
}

type DenialReason = (typeof DENIAL_REASONS)[keyof typeof DENIAL_REASONS]

export interface RuleMatch {
  /** The chosen rule, or null when the request is denied. */
  rule: CompiledRule | null
  /** Each rule evaluated, in order, and why it did or did not match (for explain; never sent). */
  trace: RuleTrace[]
  /** Why nothing was chosen (the log's `reason`); null when a rule was. */
  reason: DenialReason | null
}

/** The rules a request considers: with `requested`, only that rule, when it exists and is selectable. */
function candidates(
  own: readonly CompiledRule[],
  requested: string | undefined,
): { considered: CompiledRule[]; trace: RuleTrace[] } {
  if (requested === undefined) return { considered: [...own], trace: [] }
  const rule = own.find((r) => r.id === requested)
  if (!rule) return { considered: [], trace: [] }
  // Design §14: naming a rule must not skip an earlier rule the operator put first to restrict the caller.
  if (!rule.selectable) {
    const reason = 'not selectable by name (the rule does not say selectable: true)'
    return { considered: [], trace: [{ id: rule.id, matched: false, reason }] }
  }
  return { considered: [rule], trace: [] }
}

/**
 * Evaluates the caller's issuer's rules in order and stops at the first match; with `requested`,
 * only that rule is evaluated, and only when it says `selectable: true` (no fall-through). Rules of
 * other issuers never appear in the trace. A `matches` condition over its limits ends the decision
 * as a denial (`match_limit_exceeded`), never as a non-match that falls through to a later rule.
 */
export function matchRules(rules: readonly CompiledRule[], caller: Caller, requested?: string): RuleMatch {
  const own = rules.filter((r) => r.issuerId === caller.issuerId)
  const { considered, trace } = candidates(own, requested)
  const budget = newMatchBudget()
  for (const rule of considered) {
    try {
      const line = evaluate(rule, caller, budget)
      trace.push(line)
      if (line.matched) return { rule, trace, reason: null }
    } catch (err) {
      if (!(err instanceof MatchLimitExceeded)) throw err
      trace.push({ id: rule.id, matched: false, reason: `matching stopped: ${err.why}` })
      return { rule: null, trace, reason: DENIAL_REASONS.matchLimitExceeded }
    }
  }
  const reason =
    requested === undefined ? DENIAL_REASONS.noRuleMatched : DENIAL_REASONS.requestedRuleNotMatched
  return { rule: null, trace, reason }
}

/**
 * First match wins among rules of the caller's issuer; `requested` must be selectable and match.
 * Throws AccessDenied (reason `no_rule_matched`, `requested_rule_not_matched` or
 * `match_limit_exceeded`): which rules exist is never revealed to the caller.
 */
export function selectRule(
  rules: readonly CompiledRule[],
  caller: Caller,
  requested?: string,
): { rule: CompiledRule; trace: RuleTrace[] } {
  const { rule, trace, reason } = matchRules(rules, caller, requested)
  if (!rule) throw new AccessDenied({ reason: reason ?? DENIAL_REASONS.noRuleMatched })
  return { rule, trace }
}

/** Every rule of the caller's issuer whose conditions all hold, in rule order (for discovery: GET /v1/grants). */
export function matchingRules(rules: readonly CompiledRule[], caller: Caller): CompiledRule[] {
  const budget = newMatchBudget()
  try {
    return rules.filter((r) => r.issuerId === caller.issuerId && evaluate(r, caller, budget).matched)
  } catch (err) {
    if (!(err instanceof MatchLimitExceeded)) throw err
    throw new AccessDenied({ reason: DENIAL_REASONS.matchLimitExceeded })
  }
}
