// Rule selection: ordered rules of the caller's issuer, first match wins; a requested rule must itself match.
import { AccessDenied } from '../errors.ts'
import type { Caller } from '../types.ts'
import { DENIAL_REASONS } from './errors.ts'
import type { CompiledRule, RuleTrace } from './types.ts'

function evaluate(rule: CompiledRule, caller: Caller): RuleTrace {
  for (const condition of rule.when) {
    const failure = condition.failure(caller.claims)
    if (failure !== null) return { id: rule.id, matched: false, reason: failure }
  }
  return {
    id: rule.id,
    matched: true,
    reason: rule.when.length === 0 ? 'matched: the rule has no conditions' : 'matched: every condition holds',
  }
}

/**
 * Evaluates the caller's issuer's rules in order and stops at the first match; with `requested`,
 * only that rule is evaluated (no fall-through). Rules of other issuers never appear in the trace.
 * Returns the matched rule or null, and the trace of what was evaluated.
 */
export function matchRules(
  rules: readonly CompiledRule[],
  caller: Caller,
  requested?: string,
): { rule: CompiledRule | null; trace: RuleTrace[] } {
  const own = rules.filter((r) => r.issuerId === caller.issuerId)
  const trace: RuleTrace[] = []
  if (requested !== undefined) {
    const rule = own.find((r) => r.id === requested)
    if (!rule) return { rule: null, trace }
    const line = evaluate(rule, caller)
    trace.push(line)
    return { rule: line.matched ? rule : null, trace }
  }
  for (const rule of own) {
    const line = evaluate(rule, caller)
    trace.push(line)
    if (line.matched) return { rule, trace }
  }
  return { rule: null, trace }
}

/**
 * First match wins among rules of the caller's issuer; `requested` must itself match.
 * Throws AccessDenied (reason `no_rule_matched` or `requested_rule_not_matched`): which rules
 * exist is never revealed to the caller.
 */
export function selectRule(
  rules: readonly CompiledRule[],
  caller: Caller,
  requested?: string,
): { rule: CompiledRule; trace: RuleTrace[] } {
  const { rule, trace } = matchRules(rules, caller, requested)
  if (!rule)
    throw new AccessDenied({
      reason: requested === undefined ? DENIAL_REASONS.noRuleMatched : DENIAL_REASONS.requestedRuleNotMatched,
    })
  return { rule, trace }
}

/** Every rule of the caller's issuer whose conditions all hold, in rule order (for discovery: GET /v1/grants). */
export function matchingRules(rules: readonly CompiledRule[], caller: Caller): CompiledRule[] {
  return rules.filter((r) => r.issuerId === caller.issuerId && evaluate(r, caller).matched)
}
