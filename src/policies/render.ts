// renderGrant: a matched rule + a verified caller + the request's narrowing → the exact grant sent to STS.
import { createHash } from 'node:crypto'
import { AccessDenied, InvalidRequest, ServerError } from '../errors.ts'
import type { Caller, CredentialAsk, Grant } from '../types.ts'
import { isSubAccess, PRESETS } from './actions.ts'
import { resolveClaim } from './claims.ts'
import { EXTERNAL_ID_MAX_LENGTH, POLICY_MAX_LENGTH } from './compile.ts'
import { containmentViolations } from './containment.ts'
import { ClaimUnusable, DENIAL_REASONS } from './errors.ts'
import { hostCidr } from './ip.ts'
import { assertAskShape } from './narrowing.ts'
import { buildPolicy } from './policy.ts'
import { sanitizeSessionName } from './session-name.ts'
import { renderTemplate, type Variable, variableName } from './template.ts'
import type { CompiledRule } from './types.ts'
import { toTemplateValue } from './values.ts'

/** The caller's value for each variable, validated; throws ClaimUnusable (403) naming the claim, never quoting it. */
function callerValues(rule: CompiledRule, caller: Caller): (variable: Variable) => string {
  return (variable) => {
    if (variable.kind === 'issuer') return rule.issuerId
    if (variable.kind === 'rule') return rule.id
    const raw = variable.kind === 'sub' ? caller.subject : resolveClaim(caller.claims, variable.path)
    const result = toTemplateValue(raw, rule.pattern)
    if (!result.ok) throw new ClaimUnusable(variableName(variable), result.why)
    return result.value
  }
}

/** `ask.durationSeconds` within 900..the rule's max, or the rule's default. Throws InvalidRequest; never clamps. */
function resolveDuration(rule: CompiledRule, asked: number | undefined): number {
  const { default: byDefault, max } = rule.config.durationSeconds
  if (asked === undefined) return byDefault
  if (asked > max)
    throw new InvalidRequest(`durationSeconds must be at most ${max} for this rule`, {
      reason: 'duration_above_max',
    })
  return asked
}

/** The ExternalId the rule renders for the caller, or null; ClaimUnusable outside STS's 2-1224 characters. */
function renderExternalId(rule: CompiledRule, value: (variable: Variable) => string): string | null {
  if (!rule.externalId) return null
  const externalId = renderTemplate(rule.externalId, value)
  if (externalId.length < 2 || externalId.length > EXTERNAL_ID_MAX_LENGTH)
    throw new ClaimUnusable('externalId', 'renders outside the STS ExternalId length of 2-1224')
  return externalId
}

/** The request's narrowing inside the grant: the prefix (or single key) and the access; AccessDenied when wider. */
function narrow(rule: CompiledRule, ask: CredentialAsk, granted: string) {
  let prefix = granted
  if (ask.prefix !== undefined) {
    // The granted prefix ends in "/", so starting with it means being inside it.
    if (!ask.prefix.startsWith(granted))
      throw new AccessDenied({ reason: DENIAL_REASONS.narrowingOutsideGrant })
    prefix = ask.prefix
  }
  let access = rule.access
  if (ask.access !== undefined) {
    const asked = PRESETS[ask.access]
    if (!isSubAccess(asked, rule.access)) throw new AccessDenied({ reason: DENIAL_REASONS.accessWider })
    access = asked
  }
  return { prefix, single: !prefix.endsWith('/'), access }
}

/** The rule's acs:SourceIp condition, with `request` turned into the client's address. */
function sourceIpOf(rule: CompiledRule, clientIp: string): string | readonly string[] | null {
  const sourceIp = rule.config.conditions.sourceIp
  if (sourceIp !== 'request') return sourceIp
  // Never a policy without the condition: no usable client address is a refusal.
  const cidr = hostCidr(clientIp)
  if (cidr === null) throw new AccessDenied({ reason: DENIAL_REASONS.sourceIpUnavailable })
  return cidr
}

/** The policy as sent: minified, contained in the grant, within the rule's worst case and STS's limit. */
function checkedPolicy(
  rule: CompiledRule,
  document: ReturnType<typeof buildPolicy>,
  granted: string,
  access: CompiledRule['access'],
  narrowed: boolean,
): string {
  if (document.Statement.length === 0)
    throw new AccessDenied({ reason: DENIAL_REASONS.narrowingGrantsNothing })
  if (containmentViolations(document, rule.location, granted, access.bucketInfo).length > 0)
    throw new ServerError({ reason: 'policy_containment_violated' })
  const policy = JSON.stringify(document)
  if (policy.length > rule.worstCaseLength) {
    if (narrowed)
      throw new InvalidRequest("prefix is too long: the narrowed policy would exceed the rule's worst case", {
        reason: 'narrowed_policy_too_long',
      })
    throw new ServerError({ reason: 'policy_over_worst_case' })
  }
  // STS refuses a Policy longer than 2048 characters; the load-time proof makes this unreachable.
  if (policy.length > POLICY_MAX_LENGTH) throw new ServerError({ reason: 'policy_too_long' })
  return policy
}

/**
 * Renders the grant for `caller` under `rule`: the policy (minified JSON, ≤ the rule's proven worst
 * case ≤ 2048), its sha256, the sanitised session name, the ExternalId and the OSS location, applying
 * the request's narrowing (`ask.prefix` a sub-folder or single key of the granted prefix, `ask.access`
 * a preset inside the rule's) and `ask.durationSeconds` (default the rule's default).
 *
 * Throws InvalidRequest (400: malformed narrowing, duration outside 900..max, a narrowed policy
 * longer than the rule's worst case), AccessDenied (403: unusable claim — ClaimUnusable —, narrowing
 * outside the grant, wider access, no client IP for a SourceIp rule) or ServerError (500: a policy
 * that breaks containment or the STS limit, which the load-time proofs rule out).
 */
export function renderGrant(
  rule: CompiledRule,
  caller: Caller,
  ask: CredentialAsk,
  ctx: { clientIp: string },
): Grant {
  assertAskShape(ask)
  const durationSeconds = resolveDuration(rule, ask.durationSeconds)
  const value = callerValues(rule, caller)
  const granted = renderTemplate(rule.prefix, value)
  const sessionName = sanitizeSessionName(renderTemplate(rule.sessionName, value))
  const externalId = renderExternalId(rule, value)
  const { prefix, single, access } = narrow(rule, ask, granted)
  const sourceIp = sourceIpOf(rule, ctx.clientIp)
  const document = buildPolicy({
    location: rule.location,
    prefix,
    single,
    access,
    sourceIp,
    secureTransport: rule.config.conditions.secureTransport,
  })
  const policy = checkedPolicy(rule, document, granted, access, ask.prefix !== undefined)
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
