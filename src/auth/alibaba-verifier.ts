// Alibaba workloads as callers (issue 21, design §14): a signed GetCallerIdentity, checked, forwarded to the
// configured STS, and its answer turned into a Caller whose claims sit under `alibaba.`.
import type { AlibabaIssuerConfig } from '../config/index.ts'
import { issuerUrl } from '../config/index.ts'
import { InvalidToken, isRootIdentityType, UpstreamUnavailable } from '../errors.ts'
import type { Caller } from '../types.ts'
import { ALIBABA_WINDOW_MS, parseAlibabaCredential, withinWindow } from './alibaba-request.ts'
import { createStsForwarder, type StsAnswer, type StsForwarder, StsUnreachable } from './alibaba-sts.ts'
import { MemoryNonceStore, type NonceStore } from './nonce-store.ts'

export interface AlibabaVerifierOptions {
  now?: () => Date
  /** `sts.protocol`: how every issuer's `stsEndpoint` is reached. Default https. */
  protocol?: 'https' | 'http'
  nonces?: NonceStore
  forward?: StsForwarder
  /** Timeout of one forwarded GetCallerIdentity. Default 5000. */
  timeoutMs?: number
}

export interface AlibabaVerifier {
  /** Verifies the credential of `Authorization: AlibabaIdentity <credential>`. */
  verify(credential: string): Promise<Caller>
}

const refused = (reason: string) => new InvalidToken({ presented: true, reason: `alibaba_${reason}` })

/**
 * Order: shape and signed-header checks (alibaba-request.ts); the issuer named by the signed audience;
 * the signed Host equal to that issuer's stsEndpoint; the date within 15 minutes; the nonce never seen
 * (it is then spent, whatever STS answers); only then one request to the configured endpoint. STS
 * refusing (4xx) is 401; unreachable, 5xx, throttled or an unreadable answer is 503. Root (`Account`)
 * identities and accounts not listed are 401.
 */
export function createAlibabaVerifier(
  issuers: readonly AlibabaIssuerConfig[],
  options: AlibabaVerifierOptions = {},
): AlibabaVerifier {
  const now = options.now ?? (() => new Date())
  const protocol = options.protocol ?? 'https'
  const nonces = options.nonces ?? new MemoryNonceStore({ now: () => now().getTime() })
  const forward = options.forward ?? createStsForwarder(options.timeoutMs)
  const byAudience = new Map(issuers.map((i) => [i.audience, i]))

  async function verify(credential: string): Promise<Caller> {
    const request = parseAlibabaCredential(credential)
    const issuer = byAudience.get(request.audience)
    if (!issuer) throw refused('unknown_audience')
    if (request.host !== issuer.stsEndpoint.toLowerCase()) throw refused('host_not_sts_endpoint')
    const current = now()
    if (!withinWindow(request.signedAt, current)) throw refused('stale_date')
    const ttlMs = request.signedAt.getTime() + ALIBABA_WINDOW_MS - current.getTime()
    let fresh: boolean
    try {
      fresh = await nonces.claim(`${issuer.id}:${request.accessKeyId}:${request.nonce}`, ttlMs)
    } catch {
      throw new UpstreamUnavailable(1, { reason: 'alibaba_nonce_store_unavailable' })
    }
    if (!fresh) throw refused('replayed_nonce')
    let answer: StsAnswer
    try {
      answer = await forward(issuer.stsEndpoint, protocol, request)
    } catch (err) {
      const why = err instanceof StsUnreachable ? err.reason : 'network'
      throw new UpstreamUnavailable(1, { reason: `alibaba_sts_unreachable_${why}` })
    }
    return callerFrom(answer, issuer)
  }

  return { verify }
}

/** The Caller of a GetCallerIdentity answer, or why it is refused. */
export function callerFrom(answer: StsAnswer, issuer: AlibabaIssuerConfig): Caller {
  const { status, body } = answer
  if (status === 429 || status >= 500 || status < 200)
    throw new UpstreamUnavailable(1, { reason: `alibaba_sts_status_${status}` })
  const code = typeof body?.['Code'] === 'string' ? body['Code'] : ''
  if (/^(Throttling|ServiceUnavailable)/.test(code))
    throw new UpstreamUnavailable(1, { reason: `alibaba_sts_status_${status}` })
  if (status >= 300) {
    throw refused(`sts_refused_${/^[A-Za-z0-9.]{1,64}$/.test(code) ? code : status}`)
  }
  const text = (name: string) => (typeof body?.[name] === 'string' ? (body[name] as string) : '')
  const identityType = text('IdentityType')
  const arn = text('Arn')
  const accountId = text('AccountId')
  const principalId = text('PrincipalId')
  if (identityType === '' || arn === '' || !/^\d{16}$/.test(accountId) || principalId === '')
    throw new UpstreamUnavailable(1, { reason: 'alibaba_sts_answer_incomplete' })
  if (isRootIdentityType(identityType)) throw refused('root_account')
  if (!issuer.accounts.includes(accountId)) throw refused('account_not_listed')
  const alibaba: Record<string, string> = { accountId, arn, principalId }
  const kind = identityType.toLowerCase()
  const user = /^acs:ram::(\d{16}):user\/([^/]+)$/.exec(arn)
  const role = /^acs:ram::(\d{16}):assumed-role\/([^/]+)\/([^/]+)$/.exec(arn)
  if (kind === 'ramuser' && user?.[1] === accountId) {
    alibaba['identityType'] = 'RAMUser'
    alibaba['userName'] = user[2] ?? ''
  } else if (kind === 'assumedroleuser' && role?.[1] === accountId) {
    alibaba['identityType'] = 'AssumedRoleUser'
    alibaba['roleName'] = role[2] ?? ''
    alibaba['sessionName'] = role[3] ?? ''
  } else {
    throw refused('identity_type_not_accepted')
  }
  const claims = deepFreeze({ sub: arn, alibaba })
  return { issuerId: issuer.id, issuer: issuerUrl(issuer), subject: arn, claims }
}

function deepFreeze<T extends { alibaba: object }>(value: T): T {
  Object.freeze(value.alibaba)
  return Object.freeze(value)
}
