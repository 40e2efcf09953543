// The policy engine's public API: pure rules, templates, presets, rendering, proofs and evaluation.
import { ConfigError } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { compileAll } from './compile.ts'
import type { CompiledRule } from './types.ts'

export { type AccessSpec, LISTING_ACTIONS, OBJECT_ACTIONS, PRESETS } from './actions.ts'
export { EXTERNAL_ID_MAX_LENGTH, POLICY_MAX_LENGTH } from './compile.ts'
export { ClaimUnusable, DENIAL_REASONS } from './errors.ts'
export { type Evaluation, type EvaluationRequest, evaluatePolicy } from './evaluate.ts'
export { hostCidr, parseIp } from './ip.ts'
export { type AskShape, assertAskShape, DURATION_MAX, DURATION_MIN } from './narrowing.ts'
export { type OssCheck, type OssTarget, ossRequest, roleAccount } from './oss-request.ts'
export type { PolicyDocument, PolicyStatement } from './policy.ts'
export { renderGrant } from './render.ts'
export { matchingRules, matchRules, selectRule } from './select.ts'
export { sanitizeSessionName } from './session-name.ts'
export { SOURCE_IDENTITY_MAX, sourceIdentityFor } from './source-identity.ts'
export type { CompiledRule, RuleTrace } from './types.ts'

/**
 * Compiles and proves every rule of a validated config (templates, containment, worst-case policy
 * length ≤ 2048). Throws ConfigError listing every problem, each with its `rules[i]…` path and a
 * message naming the rule and the figure. loadConfig runs the same proofs.
 */
export function compileRules(config: Config): CompiledRule[] {
  const { rules, problems } = compileAll(config)
  if (problems.length > 0) throw new ConfigError(problems)
  return rules
}
