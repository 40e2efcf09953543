// OSS authorization as design §10 states it: explicit Deny wins; role ∩ session, or the bucket policy; then the access point.

import { globMatch } from '../../policies/glob.ts'
import { evaluatePolicy, type PolicyDocument, type PolicyStatement } from '../../policies/index.ts'
import { type EmulatorConfig, findRole } from '../config.ts'
import { statementFor } from '../ram.ts'
import type { OssCaller } from './authenticate.ts'
import type { OssOperation } from './operations.ts'
import type { OssTarget } from './routing.ts'

/** Where the request came from, as OSS's condition keys see it. */
export interface OssNetwork {
  /** `acs:SourceIp`: the peer address (IPv4-mapped IPv6 unwrapped). */
  sourceIp: string
  /** `acs:SecureTransport`: true only on the TLS listener. */
  secureTransport: boolean
  /** The VPC the request arrived from, or null for the internet. */
  vpcId: string | null
}

export interface OssAuthorization {
  allowed: boolean
  /** Which evaluation decided, for the AccessDenied message (never a secret). */
  reason: string
}

/** The ARNs OSS authorizes a request on. */
export interface OssResources {
  /** What the identity (role, session) and access point policies are evaluated on. */
  identity: string
  /** What the bucket policy is evaluated on: always the bucket's own ARN form. */
  bucket: string
  /** The access point ARN (`acs:oss:<region>:<account>:accesspoint/<name>`), or null. */
  accessPoint: string | null
}

type Decision = 'allow' | 'deny' | 'implicit-deny'
type Statement = Record<string, unknown>

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => String(v))

/**
 * `acs:oss:<region>:<account>:<bucket>[/<key>]` on a bucket; through an access point,
 * `acs:oss:<region>:<account>:accesspoint/<name>[/object/<key>]` (reference seeds/access-points.txt).
 */
export function ossResources(target: OssTarget): OssResources {
  const { bucket, accessPoint, key } = target
  const base = `acs:oss:${bucket.region}:${bucket.account}:`
  const bucketArn = `${base}${bucket.name}`
  const bucketResource = key === null ? bucketArn : `${bucketArn}/${key}`
  if (!accessPoint) return { identity: bucketResource, bucket: bucketResource, accessPoint: null }
  const apArn = `${base}accesspoint/${accessPoint.name}`
  return {
    identity: key === null ? apArn : `${apArn}/object/${key}`,
    bucket: bucketResource,
    accessPoint: apArn,
  }
}

/** The principal names a caller answers to in a bucket or access point policy's `Principal`. */
function principalNames(caller: OssCaller): string[] {
  const names = [caller.accountId]
  const s = caller.session
  if (s) names.push(`arn:sts::${s.accountId}:assumed-role/${s.roleName}/${s.sessionName}`, s.arn)
  return names
}

function principalMatches(value: unknown, names: readonly string[]): boolean {
  return list(value).some((pattern) => pattern === '*' || names.some((n) => globMatch(pattern, n, true)))
}

/**
 * The statements of `policy` that apply to this request, each reduced to the request's own action and
 * resource so that evaluatePolicy only has the conditions left to decide. This is also how NotAction
 * and NotResource are honoured (a Deny with NotResource must not be silently skipped), and how a
 * resource policy's Principal is matched.
 */
function applicable(
  policy: unknown,
  action: string,
  resource: string,
  principal: readonly string[] | null,
): PolicyDocument {
  const statements = (policy as { Statement?: unknown }).Statement
  const out: PolicyStatement[] = []
  for (const s of Array.isArray(statements) ? (statements as Statement[]) : []) {
    if (principal !== null && !principalMatches(s['Principal'], principal)) continue
    const statement = statementFor(s, action, resource)
    if (statement) out.push(statement)
  }
  return { Version: '1', Statement: out }
}

function decide(
  policy: unknown,
  action: string,
  resource: string,
  context: Record<string, string | string[]>,
  principal: readonly string[] | null = null,
): Decision {
  return evaluatePolicy(applicable(policy, action, resource, principal), { action, resource, context })
    .decision
}

function conditionContext(
  target: OssTarget,
  operation: OssOperation,
  network: OssNetwork,
  resources: OssResources,
): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {
    'acs:SourceIp': network.sourceIp,
    'acs:SecureTransport': network.secureTransport ? 'true' : 'false',
  }
  if (network.vpcId !== null) context['acs:SourceVpc'] = network.vpcId
  if (operation.listingPrefix !== null) context['oss:Prefix'] = operation.listingPrefix
  const ap = target.accessPoint
  if (ap && resources.accessPoint) {
    // The seed's delegation examples write the region as `oss-<region>`; the resource ARN writes `<region>`.
    // Both name this access point, so the context carries both.
    context['oss:DataAccessPointArn'] = [
      resources.accessPoint,
      resources.accessPoint.replace(`:${target.bucket.region}:`, `:oss-${target.bucket.region}:`),
    ]
    context['oss:DataAccessPointAccount'] = target.bucket.account
    context['oss:AccessPointNetworkOrigin'] = ap.networkOrigin
  }
  return context
}

function parseSessionPolicy(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // STS checked the grammar when it issued the session; an unreadable one allows nothing.
    return { Version: '1', Statement: [] }
  }
}

const denied = (reason: string): OssAuthorization => ({ allowed: false, reason })

/**
 * Decides one request (design §10, reference seeds/access-points.txt):
 * 1. an explicit Deny in the role policy, the session policy, the bucket policy or the access point
 *    policy denies;
 * 2. the session policy is a ceiling on every path: what it does not allow is denied (a session
 *    without one — which sts-vend never asks for — has the role's rights);
 * 3. identity = role policy ∩ session policy, counted only on the role's own account's buckets; a RAM
 *    user's AccessKey has what the user's policy grants; the account's root AccessKey has every right on
 *    its own account's resources; RAM+bucket = identity or the
 *    bucket policy (either allowing is enough);
 * 4. through an access point: the bucket policy must delegate to it (allow the request with the
 *    `oss:DataAccessPoint*` / `oss:AccessPointNetworkOrigin` context), the access point policy must
 *    allow, and a `vpc` access point accepts requests from a VPC only.
 * Throws nothing.
 */
export function authorizeOss(
  config: EmulatorConfig,
  caller: OssCaller,
  target: OssTarget,
  operation: OssOperation,
  network: OssNetwork,
): OssAuthorization {
  const resources = ossResources(target)
  const context = conditionContext(target, operation, network, resources)
  const { action } = operation
  const principal = principalNames(caller)

  let role: Decision
  let session: Decision | null = null
  if (caller.session) {
    const rolePolicy = findRole(config, caller.session.accountId, caller.session.roleName)?.policy
    role = rolePolicy ? decide(rolePolicy, action, resources.identity, context) : 'implicit-deny'
    if (caller.session.policy !== null)
      session = decide(parseSessionPolicy(caller.session.policy), action, resources.identity, context)
  } else if (caller.user) {
    // A RAM user's AccessKey has what its own policy grants, nothing more (sts:AssumeRole alone grants no OSS).
    role = caller.user.policy
      ? decide(caller.user.policy, action, resources.identity, context)
      : 'implicit-deny'
  } else {
    role = 'allow'
  }
  const bucketPolicy = target.bucket.policy
  const bucket = bucketPolicy
    ? decide(bucketPolicy, action, resources.bucket, context, principal)
    : 'implicit-deny'
  const apPolicy = target.accessPoint?.policy
  const accessPoint = apPolicy
    ? decide(apPolicy, action, resources.identity, context, principal)
    : 'implicit-deny'

  if (role === 'deny') return denied('an explicit Deny in the role policy')
  if (session === 'deny') return denied('an explicit Deny in the session policy')
  if (bucket === 'deny') return denied('an explicit Deny in the bucket policy')
  if (target.accessPoint && accessPoint === 'deny')
    return denied('an explicit Deny in the access point policy')
  if (session !== null && session !== 'allow') return denied('the session policy does not allow it')
  // RAM policies grant on the caller's own account's resources only; another account's bucket needs its bucket policy.
  const identity = role === 'allow' && caller.accountId === target.bucket.account
  if (!identity && bucket !== 'allow')
    return denied(
      caller.session
        ? 'neither the role policy (in the bucket owner account) nor the bucket policy allows it'
        : caller.user
          ? `neither the policy of RAM user ${caller.user.name} nor the bucket policy allows it`
          : 'the account does not own the bucket and the bucket policy does not allow it',
    )
  const ap = target.accessPoint
  if (ap) {
    if (ap.networkOrigin === 'vpc' && network.vpcId === null)
      return denied(`access point ${ap.name} accepts requests from a VPC only`)
    if (bucket !== 'allow') return denied(`the bucket policy does not delegate to access point ${ap.name}`)
    if (accessPoint !== 'allow') return denied(`the access point policy of ${ap.name} does not allow it`)
  }
  return { allowed: true, reason: 'allowed' }
}
