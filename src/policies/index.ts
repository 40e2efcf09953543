// The policy engine's public API: pure rules, templates, presets, rendering, proofs and evaluation.
// It never imports config/: the loader hands it RuleSpecs and reports its RuleProblems.
export {
  ACCESS_PRESETS,
  type AccessPreset,
  type AccessSpec,
  LISTING_ACTIONS,
  OBJECT_ACTIONS,
  PRESETS,
} from './actions.ts'
export { compileAll, compileRule, EXTERNAL_ID_MAX_LENGTH, POLICY_MAX_LENGTH } from './compile.ts'
export { ClaimUnusable, DENIAL_REASONS } from './errors.ts'
export { type Evaluation, type EvaluationRequest, evaluatePolicy } from './evaluate.ts'
export { hostCidr, parseIp } from './ip.ts'
export { type AskShape, assertAskShape, DURATION_MAX, DURATION_MIN } from './narrowing.ts'
export { type OssCheck, type OssTarget, ossRequest, roleAccount } from './oss-request.ts'
export { selectableWarnings } from './overlap.ts'
export type { PolicyDocument, PolicyStatement } from './policy.ts'
export { renderGrant } from './render.ts'
export { matchingRules, matchRules, selectRule } from './select.ts'
export { sanitizeSessionName } from './session-name.ts'
export { SOURCE_IDENTITY_MAX, sourceIdentityFor } from './source-identity.ts'
export type { ConditionSpec, RuleProblem, RuleSpec } from './spec.ts'
export type { CompiledRule, RuleTrace } from './types.ts'
