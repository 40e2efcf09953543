// RAM identities as STS sees them: who a caller is, what its own policies allow, and whether a role's trust policy admits it.
import { evaluatePolicy } from '../policies/evaluate.ts'
import { globMatch } from '../policies/glob.ts'
import type { PolicyDocument, PolicyStatement } from '../policies/policy.ts'
import { isPolicyDocument } from './policy-grammar.ts'

type Json = unknown
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: Json): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

// The Principal kinds of a RAM trust policy: RAM identities, cloud services, OIDC/SAML providers.
const PRINCIPAL_KINDS = new Set(['RAM', 'Service', 'Federated'])
const TRUST_STATEMENT_KEYS = new Set(['Effect', 'Action', 'Principal', 'Condition'])

function trustStatement(value: Json): boolean {
  if (!isObject(value) || !Object.keys(value).every((k) => TRUST_STATEMENT_KEYS.has(k))) return false
  const principal = value['Principal']
  if (!isObject(principal) || Object.keys(principal).length === 0) return false
  const principalsOk = Object.entries(principal).every(
    ([kind, v]) => PRINCIPAL_KINDS.has(kind) && list(v).length > 0 && list(v).length === [v].flat().length,
  )
  if (!principalsOk) return false
  // Reuse the permission-policy grammar for Effect, Action and Condition on a stand-in Resource.
  const { Principal: _principal, ...rest } = value
  return isPolicyDocument({ Version: '1', Statement: [{ ...rest, Resource: '*' }] })
}

/**
 * True when `doc` is a RAM role trust policy as the console shows it: `{Version: "1", Statement: [{Effect,
 * Action: "sts:AssumeRole", Principal: {RAM | Service | Federated: [...]}, Condition?}]}`.
 */
export function isTrustPolicy(doc: unknown): boolean {
  if (!isObject(doc) || !Object.keys(doc).every((k) => k === 'Version' || k === 'Statement')) return false
  const statements = doc['Statement']
  return (
    doc['Version'] === '1' &&
    Array.isArray(statements) &&
    statements.length > 0 &&
    statements.every(trustStatement)
  )
}

/** The trust policy the shorthand `trust: {accounts, externalId}` stands for. */
export function shorthandTrustPolicy(accounts: readonly string[], externalId: string | null): PolicyDocument {
  const statement: PolicyStatement & { Principal: unknown } = {
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { RAM: accounts.map((id) => `acs:ram::${id}:root`) },
  }
  if (externalId !== null) statement.Condition = { StringEquals: { 'sts:ExternalId': externalId } }
  return { Version: '1', Statement: [statement] }
}

/** Who asks to assume a role, as a trust policy's Principal can name it. */
export interface TrustSubject {
  /** The account the identity belongs to (a role session: the role's account). */
  accountId: string
  /** `acs:ram::<acct>:user/<name>` or `acs:ram::<acct>:role/<name>`. */
  arn: string
  /** A cloud service (`ecs.aliyuncs.com`), or null for a RAM identity. */
  service: string | null
}

/** A statement already known to apply, reduced to the request's action and resource: only its conditions remain. */
function reduced(s: Record<string, Json>, action: string, resource: string): PolicyStatement {
  const statement: PolicyStatement = {
    Effect: s['Effect'] === 'Deny' ? 'Deny' : 'Allow',
    Action: action,
    Resource: resource,
  }
  if (s['Condition'] !== undefined)
    statement.Condition = s['Condition'] as NonNullable<PolicyStatement['Condition']>
  return statement
}

/**
 * `s` reduced to `action` on `resource` when its Action/NotAction and Resource/NotResource cover them
 * (so a Deny with NotResource is never silently skipped), else null. RAM identity policies and OSS
 * bucket and access point policies match statements alike.
 */
export function statementFor(
  s: Record<string, Json>,
  action: string,
  resource: string,
): PolicyStatement | null {
  const actionHit = (p: string) => globMatch(p, action, true)
  const resourceHit = (p: string) => globMatch(p, resource)
  const actionMatches =
    'NotAction' in s ? !list(s['NotAction']).some(actionHit) : list(s['Action']).some(actionHit)
  const resourceMatches =
    'NotResource' in s ? !list(s['NotResource']).some(resourceHit) : list(s['Resource']).some(resourceHit)
  return actionMatches && resourceMatches ? reduced(s, action, resource) : null
}

function principalMatches(principal: Json, who: TrustSubject): boolean {
  if (!isObject(principal)) return false
  if (who.service !== null) return list(principal['Service']).some((s) => s.toLowerCase() === who.service)
  return list(principal['RAM']).some((entry) => {
    const e = entry.toLowerCase()
    // acs:ram::<acct>:root (or the bare account id) admits every RAM identity of that account.
    if (e === `acs:ram::${who.accountId}:root` || e === who.accountId) return true
    return e === who.arn.toLowerCase()
  })
}

/**
 * Whether `trustPolicy` lets `who` assume the role: explicit Deny wins, then an Allow for sts:AssumeRole
 * naming `who` whose Condition holds on `context` (`sts:ExternalId`, `sts:SourceIdentity`; a key the
 * request lacks fails the condition).
 */
export function trustAllows(
  trustPolicy: unknown,
  who: TrustSubject,
  context: Record<string, string>,
): boolean {
  const statements = isObject(trustPolicy) ? trustPolicy['Statement'] : undefined
  const applicable: PolicyStatement[] = []
  for (const s of Array.isArray(statements) ? statements : []) {
    if (!isObject(s) || !principalMatches(s['Principal'], who)) continue
    if (!list(s['Action']).some((a) => globMatch(a, 'sts:AssumeRole', true))) continue
    applicable.push(reduced(s, 'sts:AssumeRole', '*'))
  }
  const request = { action: 'sts:AssumeRole', resource: '*', context }
  return evaluatePolicy({ Version: '1', Statement: applicable }, request).decision === 'allow'
}

/**
 * Whether every one of `policies` (a RAM user's policy; a role's policy and a session policy) allows
 * `action` on `resource`: each is evaluated alone (explicit Deny wins, NotAction/NotResource honoured),
 * and a null policy allows nothing.
 */
export function identityAllows(
  policies: readonly unknown[],
  action: string,
  resource: string,
  context: Record<string, string> = {},
): boolean {
  return policies.every((policy) => {
    const statements = isObject(policy) ? policy['Statement'] : undefined
    const applicable: PolicyStatement[] = []
    for (const s of Array.isArray(statements) ? statements : []) {
      const statement = isObject(s) ? statementFor(s, action, resource) : null
      if (statement) applicable.push(statement)
    }
    return (
      evaluatePolicy({ Version: '1', Statement: applicable }, { action, resource, context }).decision ===
      'allow'
    )
  })
}
