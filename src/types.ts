// The plain types that cross module boundaries: caller → grant → STS input → issued credentials.
import type { AccessPreset } from './policies/actions.ts'

export type { AccessPreset }

/** A verified caller (src/auth). `claims` is the whole verified JWT payload. */
export interface Caller {
  /** The configured issuers[].id. */
  issuerId: string
  /** The token's `iss`, exactly. */
  issuer: string
  /** The token's `sub`: a non-empty string. */
  subject: string
  claims: Readonly<Record<string, unknown>>
  /**
   * An opaque mark of the verifier that made this Caller (its `mark` option), when it has one: config
   * reload pins a caller to the runtime that verified it by this field, not a map entry per caller.
   */
  verifiedBy?: object | undefined
}

export const FORMATS = ['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser'] as const
export type Format = (typeof FORMATS)[number]

/** What a caller asks for, after request validation: every field optional but the format. */
export interface CredentialAsk {
  rule?: string
  durationSeconds?: number
  /** A narrower prefix (folder ending in `/`) or a single object key inside the granted prefix. */
  prefix?: string
  /** A narrower preset. */
  access?: AccessPreset
  format: Format
}

/** Facts about the request that rules may bind to (SourceIp, SecureTransport). */
export interface RequestContext {
  requestId: string
  clientIp: string
}

/** The AssumeRole parameters sts-vend sends. Policy is always present: never the role's full rights. */
export interface AssumeRoleInput {
  roleArn: string
  roleSessionName: string
  /** Minified JSON, ≤ 2048 characters. */
  policy: string
  durationSeconds: number
  externalId?: string
  /** Derived from the verified caller (policies/source-identity.ts): ActionTrail links the session to them. */
  sourceIdentity?: string
}

/** What STS returned for one AssumeRole. */
export interface StsCredentials {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string
  expiration: Date
  /** The RequestId of the AssumeRole that produced these credentials. */
  requestId: string
}

/** Who the service's own Alibaba identity is (STS GetCallerIdentity). */
export interface CallerIdentity {
  /** As STS answers it: `Account` (root), `RAMUser` (older docs: `RamUser`) or `AssumedRoleUser`. */
  identityType: string
  arn: string
  accountId: string
  principalId: string
}

/** The STS port. Only src/sts/alibaba-client.ts implements it with the SDK. */
export interface StsClient {
  /** Throws UpstreamError (our config's fault) or UpstreamUnavailable (STS throttled/down/garbage). */
  assumeRole(input: AssumeRoleInput): Promise<StsCredentials>
  /** Who the service's own identity is. Throws UpstreamError (refused) or UpstreamUnavailable. */
  getCallerIdentity(): Promise<CallerIdentity>
  /**
   * Resolves when the service's own identity can be obtained from the credential chain, STS answers
   * GetCallerIdentity for it, and it is not a root account (then it throws RootIdentityRefused).
   */
  checkIdentity(): Promise<void>
}

/** The OSS location and rights a grant covers, as the formats report them (design §6.1). */
export interface OssGrant {
  /** Bucket name, or the access point alias for access-point grants. */
  bucket: string
  /** Access point name, or null for a bucket grant. */
  accessPoint: string | null
  region: string
  /** OSS host for clients: the rule's override or oss-<region>.aliyuncs.com. */
  endpoint: string
  /** The rendered (possibly narrowed) prefix or single object key. */
  prefix: string
  /** The preset name, or `custom` for an actions list. */
  access: AccessPreset | 'custom'
}

/** A rendered grant: everything needed to call STS and to describe the result. */
export interface Grant {
  ruleId: string
  issuerId: string
  subject: string
  roleArn: string
  sessionName: string
  externalId: string | null
  durationSeconds: number
  /** The exact Policy string sent to STS (minified JSON). */
  policy: string
  /** Lowercase hex sha256 of `policy`. */
  policySha256: string
  oss: OssGrant
}

/** Where issued credentials came from: this replica's cache, the fleet's sealed cache, or a new AssumeRole. */
export type CredentialSource = 'local' | 'fleet' | 'miss'

/** Credentials issued for a grant, with where they came from. */
export interface Issued {
  grant: Grant
  credentials: StsCredentials
  cache: 'hit' | 'miss'
  /** Fleet mode's finer answer; without it, `hit` is `local` and `miss` is `miss`. */
  source?: CredentialSource
  /** expiration − minRemainingSeconds. */
  refreshAfter: Date
}
