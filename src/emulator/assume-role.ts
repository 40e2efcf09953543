// The AssumeRole action: Alibaba's parameter limits (reference §3), who may call it, role lookup, the trust policy, the issued session.
import { createHash, randomBytes } from 'node:crypto'
import type { Caller } from './authenticate.ts'
import { type EmulatorConfig, type EmulatorRole, findRole } from './config.ts'
import { stsError } from './errors.ts'
import { isPolicyGrammatical } from './policy-grammar.ts'
import { identityAllows, type TrustSubject, trustAllows } from './ram.ts'
import type { IssuedSession } from './sessions.ts'

/** The success body, shaped as Alibaba's (reference §2.1). */
export interface AssumeRoleResponseBody {
  RequestId: string
  AssumedRoleUser: { Arn: string; AssumedRoleId: string }
  Credentials: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string; Expiration: string }
  SourceIdentity?: string
}

export interface AssumeRoleContext {
  config: EmulatorConfig
  now: Date
  requestId: string
}

// Limits from the @alicloud/sts20150401 1.2.0 AssumeRoleRequest doc comments (reference §3).
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/
const ROLE_ARN = /^acs:ram::(\d+):(role|user)\/([^/]+)$/
const MIN_DURATION_SECONDS = 900
const DEFAULT_DURATION_SECONDS = 3600
const MAX_POLICY_CHARACTERS = 2048
// SourceIdentity: Alibaba documents no limit (reference §3); the emulator takes AWS's documented form,
// 2-64 of letters, digits and _+=,.@- , and answers InvalidParameter.SourceIdentity otherwise.
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length * 2)
  let out = ''
  for (const byte of bytes) {
    // 248 = 4 × 62: rejection sampling keeps every character equally likely.
    if (byte < 248) out += ALPHANUMERIC[byte % 62]
    if (out.length === length) return out
  }
  return out + randomAlphanumeric(length - out.length)
}

/** `YYYY-MM-DDTHH:mm:ssZ`, the Expiration format of STS (no milliseconds). */
export function formatExpiration(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** A stable 19-digit role id, as Alibaba's AssumedRoleId starts with. */
export function roleId(accountId: string, roleName: string): string {
  const digest = createHash('sha256').update(`${accountId}:${roleName.toLowerCase()}`).digest()
  return (10n ** 18n + (digest.readBigUInt64BE(0) % (9n * 10n ** 18n))).toString()
}

interface AssumeRoleParameters {
  accountId: string
  roleName: string
  sessionName: string
  durationSeconds: number
  policy: string | null
  externalId: string | null
  sourceIdentity: string | null
}

function validate(params: ReadonlyMap<string, string>): AssumeRoleParameters {
  const roleArn = params.get('RoleArn')
  if (!roleArn) throw stsError('MissingParameter.RoleArn')
  const sessionName = params.get('RoleSessionName')
  if (!sessionName) throw stsError('MissingParameter.RoleSessionName')
  const arn = ROLE_ARN.exec(roleArn)
  if (!arn) throw stsError('InvalidParameter.RoleArn')
  if (!SESSION_NAME.test(sessionName)) throw stsError('InvalidParameter.RoleSessionName')
  const rawDuration = params.get('DurationSeconds') || String(DEFAULT_DURATION_SECONDS)
  const durationSeconds = /^\d{1,9}$/.test(rawDuration) ? Number(rawDuration) : Number.NaN
  if (!(durationSeconds >= MIN_DURATION_SECONDS)) throw stsError('InvalidParameter.DurationSeconds')
  const policy = params.get('Policy') || null
  if (policy !== null) {
    if ([...policy].length > MAX_POLICY_CHARACTERS) throw stsError('InvalidParameter.PolicySize')
    if (!isPolicyGrammatical(policy)) throw stsError('InvalidParameter.PolicyGrammar')
  }
  const externalId = params.get('ExternalId') || null
  if (externalId !== null && !EXTERNAL_ID.test(externalId)) throw stsError('InvalidParameter.ExternalId')
  const sourceIdentity = params.get('SourceIdentity') || null
  if (sourceIdentity !== null && !SOURCE_IDENTITY.test(sourceIdentity))
    throw stsError('InvalidParameter.SourceIdentity')
  // A `:user/` ARN names no role: Alibaba answers EntityNotExist.Role.
  if (arn[2] === 'user') throw stsError('EntityNotExist.Role')
  return {
    accountId: arn[1] ?? '',
    roleName: arn[3] ?? '',
    sessionName,
    durationSeconds,
    policy,
    externalId,
    sourceIdentity,
  }
}

/** The SourceIdentity of the new session: a chained session keeps its own, which cannot change. */
function effectiveSourceIdentity(caller: Caller, asked: string | null): string | null {
  const inherited = caller.session?.sourceIdentity ?? null
  if (inherited === null) return asked
  if (asked !== null && asked !== inherited) {
    throw stsError(
      'InvalidParameter.SourceIdentity',
      'The SourceIdentity of a role session cannot be changed when it assumes another role.',
    )
  }
  return inherited
}

/**
 * The caller's own right to call AssumeRole on `roleArn` (Alibaba's documented prerequisites): never a
 * root account key; a RAM user needs an Allow for sts:AssumeRole in its policy; a role session (chaining)
 * needs it in its role's policy and in its session policy. Returns who the trust policy must admit.
 * Both refusals are NoPermission 403, with the message Alibaba gives for each.
 */
function authorizeCaller(caller: Caller, roleArn: string, config: EmulatorConfig): TrustSubject {
  const { user, session } = caller
  if (session) {
    const rolePolicy = findRole(config, session.accountId, session.roleName)?.policy ?? null
    const policies = session.policy === null ? [rolePolicy] : [rolePolicy, parsePolicy(session.policy)]
    if (!identityAllows(policies, 'sts:AssumeRole', roleArn)) throw stsError('NoPermission')
    const arn = `acs:ram::${session.accountId}:role/${session.roleName}`
    return { accountId: session.accountId, arn, service: null }
  }
  if (!user) throw stsError('NoPermission', 'Roles may not be assumed by root accounts.')
  if (!identityAllows([user.policy], 'sts:AssumeRole', roleArn)) throw stsError('NoPermission')
  return { accountId: caller.accountId, arn: `acs:ram::${caller.accountId}:user/${user.name}`, service: null }
}

function parsePolicy(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * The role's trust policy must admit `who`, with the request's ExternalId and SourceIdentity as condition
 * keys. Alibaba answers a caller the trust policy does not name (or a wrong ExternalId) with NoPermission
 * 403 "You are not authorized to do this action. You should be authorized by RAM." (AssumeRole API doc,
 * "the RAM role's trust policy does not include the caller"), not EntityNotExist or AccessDenied.
 */
function assertTrusted(
  role: EmulatorRole,
  who: TrustSubject,
  input: AssumeRoleParameters,
  sourceIdentity: string | null,
) {
  const context: Record<string, string> = {}
  if (input.externalId !== null) context['sts:ExternalId'] = input.externalId
  if (sourceIdentity !== null) context['sts:SourceIdentity'] = sourceIdentity
  if (!trustAllows(role.trustPolicy, who, context)) throw stsError('NoPermission')
}

/**
 * Runs AssumeRole for `caller`: validates the parameters with Alibaba's limits and codes, checks the
 * caller may call it (not root; sts:AssumeRole allowed on the role ARN), finds the role, checks its trust
 * policy and MaxSessionDuration, then mints a session that keeps the SourceIdentity. Throws AlibabaError:
 * MissingParameter.*, InvalidParameter.*, EntityNotExist.Role, NoPermission.
 */
export function assumeRole(
  params: ReadonlyMap<string, string>,
  caller: Caller,
  ctx: AssumeRoleContext,
): { body: AssumeRoleResponseBody; session: IssuedSession } {
  const input = validate(params)
  const sourceIdentity = effectiveSourceIdentity(caller, input.sourceIdentity)
  const who = authorizeCaller(caller, `acs:ram::${input.accountId}:role/${input.roleName}`, ctx.config)
  const role = findRole(ctx.config, input.accountId, input.roleName)
  if (!role) throw stsError('EntityNotExist.Role')
  assertTrusted(role, who, input, sourceIdentity)
  if (input.durationSeconds > role.maxSessionDurationSeconds) {
    throw stsError(
      'InvalidParameter.DurationSeconds',
      `The Min/Max value of DurationSeconds is 15min/${role.maxSessionDurationSeconds / 3600}hr.`,
    )
  }
  const issuedAt = new Date(Math.floor(ctx.now.getTime() / 1000) * 1000)
  const expiration = new Date(issuedAt.getTime() + input.durationSeconds * 1000)
  const roleArn = `acs:ram::${input.accountId}:role/${role.name}`
  const arn = `acs:ram::${input.accountId}:role/${role.name.toLowerCase()}/${input.sessionName}`
  const session: IssuedSession = {
    accessKeyId: `STS.${randomAlphanumeric(25)}`,
    accessKeySecret: randomAlphanumeric(44),
    securityToken: `CAIS${randomBytes(300).toString('base64')}`,
    accountId: input.accountId,
    roleName: role.name,
    roleArn,
    sessionName: input.sessionName,
    arn,
    assumedRoleId: `${roleId(input.accountId, role.name)}:${input.sessionName}`,
    policy: input.policy,
    externalId: input.externalId,
    sourceIdentity,
    callerAccountId: caller.accountId,
    callerAccessKeyId: caller.accessKeyId,
    issuedAt,
    expiration,
  }
  const body: AssumeRoleResponseBody = {
    RequestId: ctx.requestId,
    AssumedRoleUser: { Arn: session.arn, AssumedRoleId: session.assumedRoleId },
    Credentials: {
      AccessKeyId: session.accessKeyId,
      AccessKeySecret: session.accessKeySecret,
      SecurityToken: session.securityToken,
      Expiration: formatExpiration(expiration),
    },
  }
  if (session.sourceIdentity !== null) body.SourceIdentity = session.sourceIdentity
  return { body, session }
}
