// The StsClient over the official @alicloud/sts20150401 SDK: the only importer of @alicloud/* in src/.
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import type CredentialModuleType from '@alicloud/credentials'
import * as CredentialNamespace from '@alicloud/credentials'
import type * as OpenApiClientType from '@alicloud/openapi-client'
import * as OpenApiClientNamespace from '@alicloud/openapi-client'
import type StsModuleType from '@alicloud/sts20150401'
import * as StsNamespace from '@alicloud/sts20150401'
import type { Config } from '../config/index.ts'
import { isRootIdentityType, RootIdentityRefused, UpstreamError, UpstreamUnavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { AssumeRoleInput, CallerIdentity, StsClient } from '../types.ts'
import { toStsCredentials } from './assume-role-response.ts'
import { endpointResolves } from './endpoint-resolves.ts'
import { classifyStsError } from './error-mapping.ts'
import type { RateCap } from './rate-cap.ts'
import { createResilientAssumeRole, type StsObserver } from './resilient-call.ts'
import type { RetryPolicy } from './retry.ts'

// The SDK packages are CommonJS compiled from TypeScript (`__esModule`). Under Node and in the esbuild
// bundle a namespace import's `default` is their module.exports; vitest hands over module.exports' own
// properties instead. Static imports (not createRequire) let the bundle (scripts/build.mjs) hold the SDK
// instead of loading ~200 files from node_modules at start.
function moduleExports<T>(namespace: object): T {
  const fallback = (namespace as { default?: unknown }).default
  const isExports = typeof fallback === 'object' && fallback !== null && '__esModule' in fallback
  return (isExports ? fallback : namespace) as T
}
const CredentialModule = moduleExports<typeof CredentialModuleType>(CredentialNamespace)
const { Config: OpenApiConfig } = moduleExports<typeof OpenApiClientType>(OpenApiClientNamespace)
const StsModule = moduleExports<typeof StsModuleType>(StsNamespace)
const require = createRequire(import.meta.url)

/** A credential of `@alicloud/credentials` (tests inject a static one; production uses the default chain). */
export type AlibabaCredential = InstanceType<typeof CredentialModule.default>

export interface AlibabaStsClientOptions {
  sts: Config['sts']
  logger: Logger
  /** The service's own identity. Default `new Credential()`: the standard chain (env AK, files, RRSA, ECS role…). */
  credential?: AlibabaCredential
  now?: () => Date
  observer?: StsObserver
  /** Replaces the local sts.maxCallsPerSecond cap (fleet mode). */
  rateCap?: RateCap
  /** Retry tuning beyond sts.maxAttempts (defaults in DEFAULT_RETRY). */
  retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>
  /** Defaults: opens after 5 consecutive unavailable calls, stays open 10 s. */
  breaker?: { failureThreshold?: number; openMs?: number }
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

type StsSdk = InstanceType<typeof StsModule.default>

/**
 * One GetCallerIdentity, no retries: start-up, /readyz and doctor call it, and each has its own answer
 * to a failure. Only the classification of an error is kept (its message holds the request URL).
 */
async function callerIdentity(sdk: StsSdk): Promise<CallerIdentity> {
  let body: Record<string, unknown>
  try {
    body = { ...(await sdk.getCallerIdentity()).body }
  } catch (err) {
    const failure = classifyStsError(err)
    const options = { reason: `GetCallerIdentity failed: ${failure.code}` }
    if (failure.kind === 'rejected') throw new UpstreamError(options)
    throw new UpstreamUnavailable(1, options)
  }
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '')
  const identity = {
    identityType: text('identityType'),
    arn: text('arn'),
    accountId: text('accountId'),
    principalId: text('principalId'),
  }
  if (identity.identityType === '' || identity.arn === '')
    throw new UpstreamUnavailable(1, { reason: 'GetCallerIdentity answer lacks IdentityType or Arn' })
  return identity
}

/**
 * Creates the StsClient for Alibaba Cloud STS (`sts.endpoint` over `sts.protocol`, region `sts.region`),
 * with both connectTimeout and readTimeout set, no SDK-level retries (ours: sts.maxAttempts, full jitter,
 * x-acs-retry-after honoured as milliseconds), a circuit breaker and the sts.maxCallsPerSecond cap.
 * `assumeRole` throws UpstreamError (STS refused: NoPermission, EntityNotExist.*, InvalidParameter.*,
 * key or signature problems; or an untrustworthy answer) or UpstreamUnavailable (throttled, 5xx,
 * network, timeout, unparseable answer, circuit open, rate cap). Throws TypeError for an AssumeRole
 * input without a session Policy: never hand out a role's full rights. `getCallerIdentity` is one
 * GetCallerIdentity call; `checkIdentity` (readiness) also refuses a root account identity.
 */
export function createAlibabaStsClient(options: AlibabaStsClientOptions): StsClient {
  const { sts, logger } = options
  const now = options.now ?? (() => new Date())
  const credential = options.credential ?? new CredentialModule.default()
  const sdk = new StsModule.default(
    new OpenApiConfig({
      endpoint: sts.endpoint,
      protocol: sts.protocol,
      regionId: sts.region,
      connectTimeout: sts.connectTimeoutMs,
      readTimeout: sts.readTimeoutMs,
      credential,
      userAgent: 'sts-vend',
    }),
  )

  async function attempt(input: AssumeRoleInput) {
    const request = new StsModule.AssumeRoleRequest({
      roleArn: input.roleArn,
      roleSessionName: input.roleSessionName,
      policy: input.policy,
      durationSeconds: input.durationSeconds,
      ...(input.externalId === undefined ? {} : { externalId: input.externalId }),
      ...(input.sourceIdentity === undefined ? {} : { sourceIdentity: input.sourceIdentity }),
    })
    const response = await sdk.assumeRole(request)
    return toStsCredentials(response.body, input, now())
  }

  const assumeRole = createResilientAssumeRole({
    attempt,
    maxAttempts: sts.maxAttempts,
    maxCallsPerSecond: sts.maxCallsPerSecond,
    logger,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.rateCap ? { rateCap: options.rateCap } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.breaker ? { breaker: options.breaker } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    clock: () => now().getTime(),
  })

  const getCallerIdentity = () => callerIdentity(sdk)
  return {
    getCallerIdentity,
    async assumeRole(input) {
      if (typeof input.policy !== 'string' || input.policy.length === 0)
        throw new TypeError('AssumeRole without a session Policy is refused')
      return assumeRole(input)
    },
    async checkIdentity() {
      try {
        const identity = await credential.getCredential()
        if (!identity.accessKeyId && !identity.bearerToken) throw new Error('empty identity')
      } catch (err) {
        // Provider errors can quote STS or metadata answers: keep only the classification.
        const failure = classifyStsError(err)
        logger.warn({ event: 'sts.identity', code: failure.code }, 'own Alibaba identity not resolvable')
        throw new UpstreamUnavailable(1, { reason: `own Alibaba identity not resolvable: ${failure.code}` })
      }
      // An endpoint whose host name does not resolve can never answer: not ready (SEC-107).
      if (!(await endpointResolves(sts.endpoint))) {
        logger.warn({ event: 'sts.endpoint', code: 'ENOTFOUND' }, 'STS endpoint not resolvable')
        throw new UpstreamUnavailable(1, { reason: 'STS endpoint not resolvable' })
      }
      const identity = await getCallerIdentity()
      if (isRootIdentityType(identity.identityType)) throw new RootIdentityRefused(identity.arn)
    },
  }
}

// The signing half of Alibaba identity logins (issue 21): the SDK's own ACS3 signer, from the openapi-util
// that @alicloud/openapi-client itself loads, over credentials from the standard chain.
interface OpenApiUtilType {
  getAuthorization(request: object, algorithm: string, payload: string, ak: string, secret: string): string
  getTimestamp(): string
  hexEncode(raw: Buffer): string
  hash(raw: Buffer, algorithm: string): Buffer
}
const OpenApiUtil = (
  createRequire(require.resolve('@alicloud/openapi-client'))('@alicloud/openapi-util') as {
    default: OpenApiUtilType
  }
).default

export interface SignCallerIdentityOptions {
  /** The sts-vend issuer's `audience`, signed into `x-acs-sts-vend-audience`. */
  audience: string
  /** The STS `host[:port]` the request is signed for (the issuer's `stsEndpoint`). */
  endpoint: string
  /** Default `new Credential()`: the standard chain (env AK, config file, ECS RAM role, RRSA, …). */
  credential?: AlibabaCredential
}

/**
 * A GetCallerIdentity request signed ACS3-HMAC-SHA256 with the caller's own credential, headers built as
 * @alicloud/openapi-client builds them, plus the signed audience header. It is not sent: the caller hands
 * it to sts-vend, which forwards it. Throws when the chain yields no access key (nothing to sign with).
 */
export async function signCallerIdentity(
  options: SignCallerIdentityOptions,
): Promise<{ method: 'POST'; headers: Record<string, string> }> {
  const credential = options.credential ?? new CredentialModule.default()
  const model = await credential.getCredential()
  if (!model.accessKeyId || !model.accessKeySecret) throw new Error('the credential chain has no access key')
  const algorithm = 'ACS3-HMAC-SHA256'
  const payloadHash = OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from(''), algorithm))
  const headers: Record<string, string> = {
    host: options.endpoint,
    'x-acs-version': '2015-04-01',
    'x-acs-action': 'GetCallerIdentity',
    'user-agent': 'sts-vend login-alibaba',
    'x-acs-date': OpenApiUtil.getTimestamp(),
    'x-acs-signature-nonce': randomUUID().replaceAll('-', ''),
    accept: 'application/json',
    'x-acs-sts-vend-audience': options.audience,
    'x-acs-content-sha256': payloadHash,
  }
  if (model.securityToken) {
    headers['x-acs-accesskey-id'] = model.accessKeyId
    headers['x-acs-security-token'] = model.securityToken
  }
  const request = { method: 'POST', pathname: '/', query: {}, headers }
  headers['authorization'] = OpenApiUtil.getAuthorization(
    request,
    algorithm,
    payloadHash,
    model.accessKeyId,
    model.accessKeySecret,
  )
  return { method: 'POST', headers }
}
