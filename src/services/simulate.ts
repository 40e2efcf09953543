// The simulate use case: what /v1/credentials would decide and render for a caller, and what the policy allows. Never calls STS.
import { AccessDenied, InvalidRequest } from '../errors.ts'
import {
  assertAskShape,
  ClaimUnusable,
  type CompiledRule,
  DENIAL_REASONS,
  evaluatePolicy,
  hostCidr,
  matchRules,
  OBJECT_ACTIONS,
  type OssTarget,
  ossRequest,
  type PolicyDocument,
  type RuleTrace,
  renderGrant,
  roleAccount,
} from '../policies/index.ts'
import type { Caller, CredentialAsk, Grant } from '../types.ts'

/** One probe: may this action on this bucket/key be done with the rendered policy? */
export interface SimulateCheck {
  action: string
  /** Default: the rule's bucket, or its access point alias. */
  bucket?: string
  /** The object key for object actions; the listing prefix for ListObjects/ListObjectVersions/ListMultipartUploads; ignored otherwise. */
  key?: string
  /** Default: the request's client IP. */
  sourceIp?: string
  /** Default true: checks assume HTTPS. */
  secureTransport?: boolean
}

export interface SimulateCheckResult {
  action: string
  bucket: string
  /** The key or listing prefix evaluated; null for bucket-level actions (GetBucketInfo). */
  key: string | null
  allowed: boolean
  /** 0-based index of the deciding statement in the policy; null when nothing allows it. */
  statement: number | null
}

/** Design §6.1's simulate answer. `policy` is the exact string STS would receive. */
export interface SimulateResult {
  rule: string
  roleArn: string
  sessionName: string
  durationSeconds: number
  policy: string
  policyLength: number
  worstCaseLength: number
  rules: RuleTrace[]
  checks: SimulateCheckResult[]
}

/**
 * A 403 from simulate, carrying the trace for `sts-vend explain`. The HTTP layer answers it like any
 * access_denied (the trace is never sent); `reason` is the underlying denial code.
 */
export class SimulateDenied extends AccessDenied {
  /** For `claim_unusable`: the claim's name (as on ClaimUnusable), for the audit line. */
  readonly claim: string | undefined
  constructor(
    /** The matched rule, or null when none matched. */
    readonly rule: string | null,
    readonly rules: RuleTrace[],
    /** Human detail for the operator (claim name and what is wrong; never its value). */
    readonly detail: string,
    options: { reason: string; cause?: unknown },
  ) {
    super(options)
    this.claim = options.cause instanceof ClaimUnusable ? options.cause.claim : undefined
  }
}

export type Simulate = (
  caller: Caller,
  ask: CredentialAsk,
  checks: readonly SimulateCheck[],
  ctx: { clientIp: string },
) => SimulateResult

const CHECKS_MAX = 50
const objectActions: ReadonlySet<string> = new Set(OBJECT_ACTIONS)

/** 400 for a malformed check (validated before any rule decision, like the request's own fields). */
function assertChecks(checks: readonly SimulateCheck[]): void {
  if (checks.length > CHECKS_MAX)
    throw new InvalidRequest(`at most ${CHECKS_MAX} checks`, { reason: 'too_many_checks' })
  checks.forEach((check, i) => {
    const bad = (what: string) => new InvalidRequest(`checks[${i}].${what}`, { reason: 'bad_check' })
    if (typeof check.action !== 'string' || !/^oss:[A-Za-z]{1,64}$/.test(check.action))
      throw bad('action must be an oss:Action')
    if (
      check.bucket !== undefined &&
      (typeof check.bucket !== 'string' || check.bucket.length === 0 || check.bucket.length > 128)
    )
      throw bad('bucket must be a bucket name or access point alias')
    if (check.key !== undefined && (typeof check.key !== 'string' || check.key.length > 1024))
      throw bad('key must be a string of at most 1024 characters')
    if (objectActions.has(check.action) && check.key === undefined)
      throw bad('key is required for an object action')
    if (
      check.sourceIp !== undefined &&
      (typeof check.sourceIp !== 'string' || hostCidr(check.sourceIp) === null)
    )
      throw bad('sourceIp must be an IP address')
    if (check.secureTransport !== undefined && typeof check.secureTransport !== 'boolean')
      throw bad('secureTransport must be a boolean')
  })
}

function detailOf(err: AccessDenied): string {
  if (err instanceof ClaimUnusable) return `${err.reason}: ${err.claim} is ${err.why}`
  return err.reason ?? 'access_denied'
}

/** Where the rule's grants point, for building the request OSS would authorize. */
export function ruleTarget(rule: CompiledRule): OssTarget {
  return {
    bucket: rule.bucket,
    accessPoint: rule.config.oss.accessPoint ?? null,
    region: rule.region,
    account: roleAccount(rule.config.roleArn),
  }
}

function evaluateCheck(
  rule: CompiledRule,
  policy: PolicyDocument,
  check: SimulateCheck,
  clientIp: string,
): SimulateCheckResult {
  const { request, bucket, key } = ossRequest(ruleTarget(rule), {
    ...check,
    sourceIp: check.sourceIp ?? clientIp,
  })
  const result = evaluatePolicy(policy, request)
  return {
    action: check.action,
    bucket,
    key,
    allowed: result.decision === 'allow',
    statement: result.statement,
  }
}

/**
 * Builds the simulate use case. `simulate(caller, ask, checks, ctx)` decides exactly as
 * /v1/credentials does (same rule selection, same rendering, same errors) and evaluates each check
 * against the rendered session policy only.
 *
 * Throws InvalidRequest (400: malformed narrowing, duration or check) or SimulateDenied — an
 * AccessDenied (403) — when no rule matches, a claim is unusable, or the narrowing asks for more,
 * carrying the rule trace for `sts-vend explain`; the HTTP answer stays a plain access_denied.
 */
export function createSimulate(deps: { rules: readonly CompiledRule[] }): Simulate {
  return function simulate(caller, ask, checks, ctx) {
    // Design §6.1 order: every 400 (the request's fields, then the checks) before any 403.
    assertAskShape(ask)
    assertChecks(checks)
    const { rule, trace, reason: denied } = matchRules(deps.rules, caller, ask.rule)
    if (!rule) {
      const reason = denied ?? DENIAL_REASONS.noRuleMatched
      throw new SimulateDenied(null, trace, reason, { reason })
    }
    let grant: Grant
    try {
      grant = renderGrant(rule, caller, ask, ctx)
    } catch (err) {
      if (err instanceof AccessDenied)
        throw new SimulateDenied(rule.id, trace, detailOf(err), {
          reason: err.reason ?? 'access_denied',
          cause: err,
        })
      throw err
    }
    const policy = JSON.parse(grant.policy) as PolicyDocument
    return {
      rule: rule.id,
      roleArn: grant.roleArn,
      sessionName: grant.sessionName,
      durationSeconds: grant.durationSeconds,
      policy: grant.policy,
      policyLength: grant.policy.length,
      worstCaseLength: rule.worstCaseLength,
      rules: trace,
      checks: checks.map((check) => evaluateCheck(rule, policy, check, ctx.clientIp)),
    }
  }
}
