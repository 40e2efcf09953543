// Who signs an OSS request: V1 or V4, in the Authorization header or a presigned URL, with an AccessKey or an emulator-issued STS session.
import { createHash } from 'node:crypto'
import { MAX_SKEW_MS } from '../authenticate.ts'
import { type EmulatorConfig, type EmulatorUser, findAccessKey } from '../config.ts'
import type { IssuedSession, SessionStore } from '../sessions.ts'
import { OssError } from './errors.ts'
import { header, type OssRequest, queryValue } from './request.ts'
import type { OssTarget } from './routing.ts'
import {
  canonicalizedResource,
  parseV1Authorization,
  signaturesEqual,
  v1Signature,
  v1StringToSign,
} from './signature-v1.ts'
import { parseV4Authorization, parseV4Credential, type V4Credential, verifyV4 } from './signature-v4.ts'

/** A verified OSS caller. */
export interface OssCaller {
  accessKeyId: string
  /** The account of the AccessKey, or of the assumed role. */
  accountId: string
  /** The STS session, or null for an AccessKey of the account or of one of its RAM users. */
  session: IssuedSession | null
  /**
   * The RAM user whose AccessKey signed, with only what its own policy allows; null for an STS session or
   * a root key (the account itself, with every right on its own resources).
   */
  user: EmulatorUser | null
  scheme: 'v1' | 'v4' | 'v1-presigned' | 'v4-presigned' | 'v1-post' | 'v4-post'
}

export interface OssAuthContext {
  config: EmulatorConfig
  sessions: SessionStore
  now: Date
}

/** OSS presigned V4 URLs live at most 7 days. */
const MAX_V4_EXPIRES_SECONDS = 7 * 24 * 3600
const V4_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

const isoSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, '.000Z')

export function parseV4Timestamp(value: string | undefined): number {
  const m = value === undefined ? null : V4_TIMESTAMP.exec(value)
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Number.NaN
}

export function resolveSecret(
  accessKeyId: string,
  token: string | undefined,
  ctx: OssAuthContext,
): { secret: string; accountId: string; session: IssuedSession | null; user: EmulatorUser | null } {
  if (accessKeyId.startsWith('STS.')) {
    const session = ctx.sessions.get(accessKeyId)
    // OSS knows an STS AccessKeyId only together with its token: without one it is an unknown key.
    if (!session || !token)
      throw new OssError('InvalidAccessKeyId', undefined, { OSSAccessKeyId: accessKeyId })
    if (!signaturesEqual(token, session.securityToken)) throw new OssError('InvalidSecurityToken')
    if (session.expiration.getTime() <= ctx.now.getTime()) throw new OssError('SecurityTokenExpired')
    return { secret: session.accessKeySecret, accountId: session.accountId, session, user: null }
  }
  const found = findAccessKey(ctx.config, accessKeyId)
  if (!found?.key.active) throw new OssError('InvalidAccessKeyId', undefined, { OSSAccessKeyId: accessKeyId })
  if (token) throw new OssError('InvalidSecurityToken')
  return { secret: found.key.secret, accountId: found.account.id, session: null, user: found.user }
}

function assertFresh(requestTime: number, ctx: OssAuthContext): void {
  if (Number.isNaN(requestTime))
    throw new OssError('AccessDenied', 'OSS authentication requires a valid Date.')
  if (Math.abs(requestTime - ctx.now.getTime()) > MAX_SKEW_MS) {
    throw new OssError('RequestTimeTooSkewed', undefined, {
      RequestTime: isoSeconds(new Date(requestTime)),
      ServerTime: isoSeconds(ctx.now),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    })
  }
}

export function mismatch(accessKeyId: string, provided: string): OssError {
  // Real OSS also returns its StringToSign; it holds the security token, so the emulator leaves it out.
  return new OssError('SignatureDoesNotMatch', undefined, {
    OSSAccessKeyId: accessKeyId,
    SignatureProvided: provided,
  })
}

function assertPayloadHash(req: OssRequest): void {
  const claimed = header(req.headers, 'x-oss-content-sha256')
  if (claimed === undefined || claimed === 'UNSIGNED-PAYLOAD') return
  if (createHash('sha256').update(req.body).digest('hex') !== claimed.toLowerCase())
    throw new OssError('InvalidDigest', 'The x-oss-content-sha256 you specified does not match the body.')
}

export function assertRegion(credential: V4Credential, target: OssTarget): void {
  if (credential.region !== target.bucket.region)
    throw new OssError('InvalidArgument', 'Invalid signing region in the V4 credential scope.')
}

/**
 * Refuses a V1 signature to a bucket that accepts V4 only (every bucket made from 2025-09-01, every
 * bucket of an account made from 2025-03-01). Alibaba's documentation does not give the error code
 * OSS answers then; the emulator answers 403 AccessDenied naming V4, before looking at the key.
 */
export function assertV1Accepted(target: OssTarget): void {
  if (!target.bucket.signatureVersions.includes('v1'))
    throw new OssError(
      'AccessDenied',
      `Bucket ${target.bucket.name} accepts only V4 signatures (OSS4-HMAC-SHA256); V1 signatures are not supported.`,
    )
}

function v1Header(req: OssRequest, target: OssTarget, value: string, ctx: OssAuthContext): OssCaller {
  assertV1Accepted(target)
  const auth = parseV1Authorization(value)
  if (!auth) throw new OssError('AccessDenied', 'The Authorization header is malformed.')
  const key = resolveSecret(auth.accessKeyId, header(req.headers, 'x-oss-security-token'), ctx)
  assertFresh(Date.parse(header(req.headers, 'x-oss-date') ?? header(req.headers, 'date') ?? ''), ctx)
  const resource = canonicalizedResource(target.name, target.key, req.query)
  const expected = v1Signature(key.secret, v1StringToSign(req.method, req.headers, resource))
  if (!signaturesEqual(auth.signature, expected)) throw mismatch(auth.accessKeyId, auth.signature)
  return {
    accessKeyId: auth.accessKeyId,
    accountId: key.accountId,
    session: key.session,
    user: key.user,
    scheme: 'v1',
  }
}

function v4Header(req: OssRequest, target: OssTarget, value: string, ctx: OssAuthContext): OssCaller {
  const auth = parseV4Authorization(value)
  if (!auth) throw new OssError('AccessDenied', 'The Authorization header is malformed.')
  const key = resolveSecret(auth.accessKeyId, header(req.headers, 'x-oss-security-token'), ctx)
  const timestamp = header(req.headers, 'x-oss-date') ?? ''
  assertFresh(parseV4Timestamp(timestamp), ctx)
  if (timestamp.slice(0, 8) !== auth.date) throw mismatch(auth.accessKeyId, auth.signature)
  assertRegion(auth, target)
  const input = {
    method: req.method,
    name: target.name,
    key: target.key,
    query: req.query,
    headers: req.headers,
    additionalHeaders: auth.additionalHeaders,
  }
  if (!verifyV4(input, auth, timestamp, key.secret, auth.signature))
    throw mismatch(auth.accessKeyId, auth.signature)
  assertPayloadHash(req)
  return {
    accessKeyId: auth.accessKeyId,
    accountId: key.accountId,
    session: key.session,
    user: key.user,
    scheme: 'v4',
  }
}

function v1Presigned(req: OssRequest, target: OssTarget, ctx: OssAuthContext): OssCaller {
  assertV1Accepted(target)
  const accessKeyId = queryValue(req.query, 'OSSAccessKeyId') ?? ''
  const expires = queryValue(req.query, 'Expires') ?? ''
  const signature = queryValue(req.query, 'Signature') ?? ''
  if (!accessKeyId || !signature || !/^\d{1,12}$/.test(expires))
    throw new OssError('AccessDenied', 'The presigned URL is missing OSSAccessKeyId, Expires or Signature.')
  const key = resolveSecret(accessKeyId, queryValue(req.query, 'security-token'), ctx)
  if (Number(expires) * 1000 < ctx.now.getTime())
    throw new OssError('AccessDenied', 'Request has expired.', {
      Expires: isoSeconds(new Date(Number(expires) * 1000)),
      ServerTime: isoSeconds(ctx.now),
    })
  const resource = canonicalizedResource(target.name, target.key, req.query)
  const expected = v1Signature(key.secret, v1StringToSign(req.method, req.headers, resource, expires))
  if (!signaturesEqual(signature, expected)) throw mismatch(accessKeyId, signature)
  return {
    accessKeyId,
    accountId: key.accountId,
    session: key.session,
    user: key.user,
    scheme: 'v1-presigned',
  }
}

function v4Presigned(req: OssRequest, target: OssTarget, ctx: OssAuthContext): OssCaller {
  const credential = parseV4Credential(queryValue(req.query, 'x-oss-credential') ?? '')
  const timestamp = queryValue(req.query, 'x-oss-date') ?? ''
  const expires = queryValue(req.query, 'x-oss-expires') ?? ''
  const signature = queryValue(req.query, 'x-oss-signature') ?? ''
  const seconds = /^\d{1,6}$/.test(expires) ? Number(expires) : Number.NaN
  if (
    queryValue(req.query, 'x-oss-signature-version') !== 'OSS4-HMAC-SHA256' ||
    !credential ||
    !/^[0-9a-f]{64}$/.test(signature) ||
    !(seconds >= 1 && seconds <= MAX_V4_EXPIRES_SECONDS)
  )
    throw new OssError('AccessDenied', 'The presigned URL is missing or has malformed x-oss-* parameters.')
  const key = resolveSecret(credential.accessKeyId, queryValue(req.query, 'x-oss-security-token'), ctx)
  const signedAt = parseV4Timestamp(timestamp)
  if (Number.isNaN(signedAt) || timestamp.slice(0, 8) !== credential.date)
    throw mismatch(credential.accessKeyId, signature)
  if (signedAt + seconds * 1000 < ctx.now.getTime())
    throw new OssError('AccessDenied', 'Request has expired.', {
      Expires: isoSeconds(new Date(signedAt + seconds * 1000)),
      ServerTime: isoSeconds(ctx.now),
    })
  assertRegion(credential, target)
  const additional = queryValue(req.query, 'x-oss-additional-headers')
  const input = {
    method: req.method,
    name: target.name,
    key: target.key,
    query: req.query.filter((p) => p.name !== 'x-oss-signature'),
    headers: req.headers,
    additionalHeaders: additional ? additional.split(';').map((h) => h.toLowerCase()) : [],
  }
  if (!verifyV4(input, credential, timestamp, key.secret, signature))
    throw mismatch(credential.accessKeyId, signature)
  return {
    accessKeyId: credential.accessKeyId,
    accountId: key.accountId,
    session: key.session,
    user: key.user,
    scheme: 'v4-presigned',
  }
}

/**
 * Authenticates an OSS request addressed to `target`. Checks, in order: which scheme (one only), the
 * AccessKey and its security token (an STS key must come with its token and be unexpired), the
 * request time (15 minutes either way) or the presigned URL's expiry, then the signature.
 * Throws OssError: AccessDenied (unsigned, malformed, presigned URL expired, V1 to a V4-only bucket), InvalidArgument (two
 * schemes at once, wrong V4 region), InvalidAccessKeyId, InvalidSecurityToken, SecurityTokenExpired,
 * RequestTimeTooSkewed, SignatureDoesNotMatch, InvalidDigest.
 */
export function authenticateOss(req: OssRequest, target: OssTarget, ctx: OssAuthContext): OssCaller {
  const authorization = header(req.headers, 'authorization')
  const v1Query = req.query.some((p) => p.name === 'OSSAccessKeyId' || p.name === 'Signature')
  const v4Query = req.query.some((p) => p.name === 'x-oss-signature-version' || p.name === 'x-oss-signature')
  if ([authorization !== undefined, v1Query, v4Query].filter(Boolean).length > 1)
    throw new OssError('InvalidArgument', 'Only one authentication mechanism is allowed.')
  if (authorization !== undefined) {
    if (authorization.startsWith('OSS4-HMAC-SHA256 ')) return v4Header(req, target, authorization, ctx)
    return v1Header(req, target, authorization, ctx)
  }
  if (v1Query) return v1Presigned(req, target, ctx)
  if (v4Query) return v4Presigned(req, target, ctx)
  // Every emulated bucket is private: anonymous requests are refused.
  throw new OssError('AccessDenied')
}
