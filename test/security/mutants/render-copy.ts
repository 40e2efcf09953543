// A test-only copy of src/policies/render.ts with switchable planted bugs: proves each §4.3 property can fail.
import { createHash } from 'node:crypto'
import { AccessDenied, InvalidRequest, ServerError } from '../../../src/errors.ts'
import { isSubAccess, PRESETS } from '../../../src/policies/actions.ts'
import { resolveClaim } from '../../../src/policies/claims.ts'
import { EXTERNAL_ID_MAX_LENGTH, POLICY_MAX_LENGTH } from '../../../src/policies/compile.ts'
import { containmentViolations } from '../../../src/policies/containment.ts'
import { ClaimUnusable, DENIAL_REASONS } from '../../../src/policies/errors.ts'
import { hostCidr } from '../../../src/policies/ip.ts'
import { assertAskShape } from '../../../src/policies/narrowing.ts'
import { buildPolicy } from '../../../src/policies/policy.ts'
import { sanitizeSessionName } from '../../../src/policies/session-name.ts'
import { renderTemplate, type Variable, variableName } from '../../../src/policies/template.ts'
import type { CompiledRule } from '../../../src/policies/types.ts'
import { toTemplateValue } from '../../../src/policies/values.ts'
import type { Caller, CredentialAsk, Grant } from '../../../src/types.ts'

/**
 * The planted bugs, one per property:
 * - `anyValue` (P1): the value check replaced by `/.*​/s` — any string is usable, and the containment self-check skipped;
 * - `unbudgetedSid` (P2): a Sid carrying the value, never counted in the worst case, and the length checks skipped;
 * - `caseFolded` (P3): values lower-cased, so `Alice` and `alice` share a prefix;
 * - `rawSessionName` (P4): the session name is not sanitised;
 * - `narrowAnywhere` (P5): a narrowing prefix is not required to start with the granted one.
 */
export type PlantedBug = 'anyValue' | 'unbudgetedSid' | 'caseFolded' | 'rawSessionName' | 'narrowAnywhere'

export type Renderer = (
  rule: CompiledRule,
  caller: Caller,
  ask: CredentialAsk,
  ctx: { clientIp: string },
) => Grant

/** renderGrant as in src, with `bug` planted (none when null: then it must agree with src exactly). */
export function makeRenderer(bug: PlantedBug | null): Renderer {
  function callerValues(rule: CompiledRule, caller: Caller): (variable: Variable) => string {
    return (variable) => {
      if (variable.kind === 'issuer') return rule.issuerId
      if (variable.kind === 'rule') return rule.id
      const raw = variable.kind === 'sub' ? caller.subject : resolveClaim(caller.claims, variable.path)
      if (bug === 'anyValue' && typeof raw === 'string' && /.*/s.test(raw)) return raw
      const result = toTemplateValue(raw, rule.pattern)
      if (!result.ok) throw new ClaimUnusable(variableName(variable), result.why)
      return bug === 'caseFolded' ? result.value.toLowerCase() : result.value
    }
  }

  return function renderGrant(rule, caller, ask, ctx) {
    assertAskShape(ask)
    const { default: byDefault, max } = rule.config.durationSeconds
    if (ask.durationSeconds !== undefined && ask.durationSeconds > max)
      throw new InvalidRequest(`durationSeconds must be at most ${max} for this rule`)
    const durationSeconds = ask.durationSeconds ?? byDefault
    const value = callerValues(rule, caller)
    const granted = renderTemplate(rule.prefix, value)
    const rendered = renderTemplate(rule.sessionName, value)
    const sessionName = bug === 'rawSessionName' ? rendered : sanitizeSessionName(rendered)
    let externalId: string | null = null
    if (rule.externalId) {
      externalId = renderTemplate(rule.externalId, value)
      if (externalId.length < 2 || externalId.length > EXTERNAL_ID_MAX_LENGTH)
        throw new ClaimUnusable('externalId', 'renders outside the STS ExternalId length of 2-1224')
    }
    let prefix = granted
    if (ask.prefix !== undefined) {
      if (bug !== 'narrowAnywhere' && !ask.prefix.startsWith(granted))
        throw new AccessDenied({ reason: DENIAL_REASONS.narrowingOutsideGrant })
      prefix = ask.prefix
    }
    const single = !prefix.endsWith('/')
    let access = rule.access
    if (ask.access !== undefined) {
      const asked = PRESETS[ask.access]
      if (!isSubAccess(asked, rule.access)) throw new AccessDenied({ reason: DENIAL_REASONS.accessWider })
      access = asked
    }
    let sourceIp: string | readonly string[] | null = rule.config.conditions.sourceIp
    if (sourceIp === 'request') {
      sourceIp = hostCidr(ctx.clientIp)
      if (sourceIp === null) throw new AccessDenied({ reason: DENIAL_REASONS.sourceIpUnavailable })
    }
    let document = buildPolicy({
      location: rule.location,
      prefix,
      single,
      access,
      sourceIp,
      secureTransport: rule.config.conditions.secureTransport,
    })
    if (document.Statement.length === 0)
      throw new AccessDenied({ reason: DENIAL_REASONS.narrowingGrantsNothing })
    if (bug === 'unbudgetedSid') {
      const [first, ...rest] = document.Statement
      document = { ...document, Statement: [{ ...first!, Sid: `for-${caller.subject}`.repeat(4) }, ...rest] }
    }
    const selfChecks = bug === null || bug === 'caseFolded' || bug === 'rawSessionName'
    if (selfChecks && containmentViolations(document, rule.location, granted, access.bucketInfo).length > 0)
      throw new ServerError({ reason: 'policy_containment_violated' })
    const policy = JSON.stringify(document)
    if (bug !== 'unbudgetedSid') {
      if (policy.length > rule.worstCaseLength) {
        if (ask.prefix !== undefined) throw new InvalidRequest('prefix is too long')
        throw new ServerError({ reason: 'policy_over_worst_case' })
      }
      if (policy.length > POLICY_MAX_LENGTH) throw new ServerError({ reason: 'policy_too_long' })
    }
    return {
      ruleId: rule.id,
      issuerId: rule.issuerId,
      subject: caller.subject,
      roleArn: rule.config.roleArn,
      sessionName,
      externalId,
      durationSeconds,
      policy,
      policySha256: createHash('sha256').update(policy).digest('hex'),
      oss: {
        bucket: rule.bucket,
        accessPoint: rule.accessPoint,
        region: rule.region,
        endpoint: rule.endpoint,
        prefix,
        access: access.name,
      },
    }
  }
}
