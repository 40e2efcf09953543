// Who is calling: the ACS3 or RPC signature, the date window, the AccessKey or emulator-issued STS token, nonce replay.

import type { StsCall } from './call.ts'
import { type EmulatorConfig, type EmulatorUser, findAccessKey } from './config.ts'
import { stsError } from './errors.ts'
import type { IssuedSession, SessionStore } from './sessions.ts'
import { parseAcs3Authorization, unsignedHeaders, verifyAcs3Signature } from './signature-acs3.ts'
import { verifyRpcSignature } from './signature-rpc.ts'

/** A verified caller. */
export interface Caller {
  /** The account the caller belongs to: the key's account, or the assumed role's account for STS callers. */
  accountId: string
  accessKeyId: string
  /** The RAM user whose AccessKey signed the request, else null. */
  user: EmulatorUser | null
  /** The emulator-issued session when the caller signs with STS credentials (role chaining), else null. */
  session: IssuedSession | null
  signature: 'ACS3' | 'RPC'
}

// Alibaba accepts a request date at most 15 minutes away from its own clock.
export const MAX_SKEW_MS = 15 * 60 * 1000

/** Remembers signature nonces for the whole date window, so a captured request cannot be replayed. */
export interface NonceStore {
  /** Records `nonce`; false when it was already used within the window. */
  use(nonce: string, at: Date): boolean
}

/** An in-memory nonce store keeping nonces for 2 × the skew window, at most `maxEntries` (default 1e6). */
export function createNonceStore(options: { maxEntries?: number } = {}): NonceStore {
  const max = options.maxEntries ?? 1_000_000
  const seen = new Map<string, number>()
  return {
    use(nonce, at) {
      const t = at.getTime()
      for (const [old, expires] of seen) {
        if (expires > t && seen.size < max) break
        seen.delete(old)
      }
      if (seen.has(nonce)) return false
      seen.set(nonce, t + 2 * MAX_SKEW_MS)
      return true
    },
  }
}

export interface AuthenticateContext {
  config: EmulatorConfig
  sessions: SessionStore
  nonces: NonceStore
  now: Date
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/

function assertFresh(value: string | undefined, now: Date): void {
  const parsed = value !== undefined && TIMESTAMP.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(parsed)) throw stsError('InvalidTimeStamp.Format')
  if (Math.abs(parsed - now.getTime()) > MAX_SKEW_MS) throw stsError('InvalidTimeStamp.Expired')
}

function resolveKey(
  accessKeyId: string,
  securityToken: string | undefined,
  ctx: AuthenticateContext,
): { secret: string; accountId: string; user: EmulatorUser | null; session: IssuedSession | null } {
  if (accessKeyId.startsWith('STS.')) {
    const session = ctx.sessions.get(accessKeyId)
    if (!session) throw stsError('InvalidAccessKeyId.NotFound')
    if (!securityToken) throw stsError('MissingSecurityToken')
    if (securityToken !== session.securityToken) {
      throw stsError(
        securityToken.startsWith('CAIS')
          ? 'InvalidSecurityToken.MismatchWithAccessKey'
          : 'InvalidSecurityToken.Malformed',
      )
    }
    if (session.expiration.getTime() <= ctx.now.getTime()) throw stsError('InvalidSecurityToken.Expired')
    return { secret: session.accessKeySecret, accountId: session.accountId, user: null, session }
  }
  const found = findAccessKey(ctx.config, accessKeyId)
  if (!found) throw stsError('InvalidAccessKeyId.NotFound')
  if (!found.key.active) throw stsError('InvalidAccessKeyId.Inactive')
  return { secret: found.key.secret, accountId: found.account.id, user: found.user, session: null }
}

function signatureMismatch(stringToSign: string) {
  // Alibaba puts its string to sign in the message; @alicloud/credentials compares it with its own.
  return stsError(
    'SignatureDoesNotMatch',
    `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
  )
}

function useNonce(nonce: string, ctx: AuthenticateContext): void {
  if (!ctx.nonces.use(nonce, ctx.now)) throw stsError('SignatureNonceUsed')
}

function authenticateAcs3(call: StsCall, ctx: AuthenticateContext): Caller {
  const auth = parseAcs3Authorization(call.headers['authorization'] ?? '')
  if (!auth) throw stsError('IncompleteSignature')
  const h = call.headers
  const required = ['host', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256', 'x-acs-version']
  if (required.some((name) => !h[name]) || unsignedHeaders(call, auth.signedHeaders).length > 0)
    throw stsError('IncompleteSignature')
  const headerKeyId = h['x-acs-accesskey-id']
  if (headerKeyId !== undefined && headerKeyId !== auth.accessKeyId) throw stsError('IncompleteSignature')
  assertFresh(h['x-acs-date'], ctx.now)
  const key = resolveKey(auth.accessKeyId, h['x-acs-security-token'], ctx)
  const verified = verifyAcs3Signature(call, auth, key.secret)
  if (!verified.ok) throw signatureMismatch(verified.stringToSign)
  useNonce(h['x-acs-signature-nonce'] ?? '', ctx)
  const { accountId, user, session } = key
  return { accountId, accessKeyId: auth.accessKeyId, user, session, signature: 'ACS3' }
}

function authenticateRpc(
  call: StsCall,
  params: ReadonlyMap<string, string>,
  ctx: AuthenticateContext,
): Caller {
  const accessKeyId = params.get('AccessKeyId')
  if (!accessKeyId) throw stsError('MissingAccessKeyId')
  if (
    !params.get('Signature') ||
    params.get('SignatureMethod') !== 'HMAC-SHA1' ||
    params.get('SignatureVersion') !== '1.0' ||
    !params.get('SignatureNonce')
  )
    throw stsError('IncompleteSignature')
  assertFresh(params.get('Timestamp'), ctx.now)
  const key = resolveKey(accessKeyId, params.get('SecurityToken'), ctx)
  const verified = verifyRpcSignature(call.method, params, key.secret)
  if (!verified.ok) throw signatureMismatch(verified.stringToSign)
  useNonce(params.get('SignatureNonce') ?? '', ctx)
  return { accountId: key.accountId, accessKeyId, user: key.user, session: key.session, signature: 'RPC' }
}

/**
 * Verifies the request's signature and returns the caller. ACS3 when an `Authorization` header is
 * present, the RPC form otherwise. Throws AlibabaError: IncompleteSignature, MissingAccessKeyId,
 * InvalidTimeStamp.Format/Expired, InvalidAccessKeyId.NotFound/Inactive, MissingSecurityToken,
 * InvalidSecurityToken.*, SignatureDoesNotMatch, SignatureNonceUsed.
 */
export function authenticate(
  call: StsCall,
  params: ReadonlyMap<string, string>,
  ctx: AuthenticateContext,
): Caller {
  if (call.headers['authorization'] !== undefined) return authenticateAcs3(call, ctx)
  return authenticateRpc(call, params, ctx)
}
