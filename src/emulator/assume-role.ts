// The AssumeRole action: Alibaba's parameter limits (reference §3), role lookup, trust and ExternalId, the issued session.
import { createHash, randomBytes } from 'node:crypto'
import type { Caller } from './authenticate.ts'
import { type EmulatorConfig, findRole } from './config.ts'
import { stsError } from './errors.ts'
import { isPolicyGrammatical } from './policy-grammar.ts'
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
function roleId(accountId: string, roleName: string): string {
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
  // A `:user/` ARN names no role: Alibaba answers EntityNotExist.Role.
  if (arn[2] === 'user') throw stsError('EntityNotExist.Role')
  return {
    accountId: arn[1] ?? '',
    roleName: arn[3] ?? '',
    sessionName,
    durationSeconds,
    policy,
    externalId,
    sourceIdentity: params.get('SourceIdentity') || null,
  }
}

/**
 * Runs AssumeRole for `caller`: validates the parameters with Alibaba's limits and codes, finds the
 * role, checks its trust (caller's account listed; ExternalId equal when the role requires one) and the
 * role's MaxSessionDuration, then mints a session. Throws AlibabaError: MissingParameter.*,
 * InvalidParameter.*, EntityNotExist.Role, NoPermission.
 */
export function assumeRole(
  params: ReadonlyMap<string, string>,
  caller: Caller,
  ctx: AssumeRoleContext,
): { body: AssumeRoleResponseBody; session: IssuedSession } {
  const input = validate(params)
  const role = findRole(ctx.config, input.accountId, input.roleName)
  if (!role) throw stsError('EntityNotExist.Role')
  if (!role.trust.accounts.includes(caller.accountId)) throw stsError('NoPermission')
  if (role.trust.externalId !== null && input.externalId !== role.trust.externalId)
    throw stsError('NoPermission')
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
    sourceIdentity: input.sourceIdentity ?? caller.session?.sourceIdentity ?? null,
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
