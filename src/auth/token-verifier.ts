// createTokenVerifier: Authorization header values → a verified Caller, from the configured issuers only.
import { type JWTVerifyOptions, errors as joseErrors, jwtVerify } from 'jose'
import type { AlibabaIssuerConfig, IssuerConfig } from '../config/index.ts'
import { InvalidToken, UpstreamUnavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Caller } from '../types.ts'
import { ALIBABA_SCHEME } from './alibaba-request.ts'
import { type AlibabaVerifier, createAlibabaVerifier } from './alibaba-verifier.ts'
import { parseBearer } from './bearer.ts'
import { cacheDeadline, checkVerifiedClaims } from './claims.ts'
import { IssuerFetchError } from './guarded-fetch.ts'
import { IssuerKeys, JWKS_CACHE_MAX_AGE_MS } from './issuer-keys.ts'
import type { NonceStore } from './nonce-store.ts'
import { decodeUnverified } from './unverified-token.ts'
import { VerifiedTokenCache } from './verified-cache.ts'

export interface TokenVerifier {
  /**
   * Verifies the values of the request's Authorization header(s) (pass
   * `req.headersDistinct.authorization`: Node drops duplicate authorization headers in
   * `req.headers`, so all values are read). Resolves the Caller. A token is only ever read from this
   * header: never from the query string or the body.
   *
   * @throws InvalidToken (401) with `presented: false` when there is no Authorization header or the
   *   scheme is not Bearer, `presented: true` otherwise; its `reason` (the jose error code or ours)
   *   is for the log only.
   * @throws UpstreamUnavailable (503) when the token's issuer's discovery document or JWKS cannot be
   *   fetched (or the issuer is backing off after such a failure); `retryAfterSeconds` says when.
   */
  verify(authorization: readonly string[] | undefined): Promise<Caller>
  /** For /readyz: fetches (once, then cached) every issuer's keys; ready only when all are fetched. */
  readiness(): Promise<{ ready: boolean; issuers: Record<string, { ready: boolean; reason?: string }> }>
}

export interface TokenVerifierOptions {
  /** Injected clock, passed to jose as `currentDate`, and used for the backoff and the cache. */
  now?: () => Date
  /** Timeout of one discovery or JWKS request. Default 5000. */
  fetchTimeoutMs?: number
  /** JWKS cooldown (jose `cooldownDuration`): at most one refetch per window for unknown kids, and the cap of the failure backoff. Default 30000. */
  cooldownMs?: number
  /** Size of the verified-token cache (sha256 of the token → Caller). Default 10000; 0 disables. */
  cacheMaxEntries?: number
  /** Bound on the verified-token cache's estimated heap bytes (`cache.maxMemoryMiB`'s share). Default none. */
  cacheMaxBytes?: number
  /** The fetch used for discovery and JWKS. Default the global fetch. */
  fetch?: typeof fetch
  /** Where issuer-level problems go (failed fetches, duplicate kids). Per-request reasons travel on the errors. */
  logger?: Logger
  /** `sts.protocol`: how Alibaba identity issuers reach their `stsEndpoint`. Default https. */
  stsProtocol?: 'https' | 'http'
  /** The seen-nonce store of Alibaba identity logins; pass one that outlives config reloads. */
  alibabaNonces?: NonceStore
  /** Replaces the Alibaba identity verifier built from the alibaba-identity issuers (tests). */
  alibaba?: AlibabaVerifier
  /** Put on every Caller this verifier makes, as `verifiedBy` (config reload pins callers by it: issue 22). */
  mark?: object
}

interface Issuer {
  config: IssuerConfig
  keys: IssuerKeys
}

/** Each OIDC issuer by its exact `issuer` URL, with its key source. Throws TypeError on a repeated URL. */
function issuersByUrl(
  issuers: readonly IssuerConfig[],
  keyOptions: ConstructorParameters<typeof IssuerKeys>[1],
): Map<string, Issuer> {
  const byIssuer = new Map<string, Issuer>()
  issuers.forEach((config, index) => {
    if (byIssuer.has(config.issuer)) {
      throw new TypeError(
        `issuers[${index}].issuer repeats another issuer's URL; tokens could not be told apart`,
      )
    }
    byIssuer.set(config.issuer, { config, keys: new IssuerKeys(config, keyOptions) })
  })
  return byIssuer
}

/**
 * Builds the verifier for `issuers` (config §3). Nothing is fetched at construction. A token's
 * issuer is chosen by exact match of its unverified `iss` before any network I/O, so tokens of
 * unknown issuers cost nothing. Verification, in jose: only the issuer's `algorithms`, `iss`, `aud`
 * (any of `audiences`), `exp` required, `nbf` and `maxTokenAgeSeconds` with `clockToleranceSeconds`,
 * the optional `typ`; then ours: a future `iat`, `sub` a non-blank string, finite dates.
 *
 * @throws TypeError when two issuers share one `issuer` URL, or an option is out of range.
 */
export function createTokenVerifier(
  allIssuers: readonly (IssuerConfig | AlibabaIssuerConfig)[],
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const now = options.now ?? (() => new Date())
  const fetchTimeoutMs = nonNegativeInteger(options.fetchTimeoutMs, 5000, 'fetchTimeoutMs')
  const cooldownMs = nonNegativeInteger(options.cooldownMs, 30_000, 'cooldownMs')
  const cacheMaxEntries = nonNegativeInteger(options.cacheMaxEntries, 10_000, 'cacheMaxEntries')
  const fetchImpl = options.fetch ?? fetch
  const { mark } = options

  const issuers = allIssuers.filter((i): i is IssuerConfig => i.type !== 'alibaba-identity')
  const byIssuer = issuersByUrl(issuers, {
    fetch: fetchImpl,
    now,
    fetchTimeoutMs,
    cooldownMs,
    logger: options.logger,
  })
  const cache = new VerifiedTokenCache(cacheMaxEntries, now, options.cacheMaxBytes)
  const alibabaIssuers = allIssuers.filter((i): i is AlibabaIssuerConfig => i.type === 'alibaba-identity')
  const alibaba =
    options.alibaba ??
    (alibabaIssuers.length === 0
      ? undefined
      : createAlibabaVerifier(alibabaIssuers, {
          now,
          ...(options.stsProtocol ? { protocol: options.stsProtocol } : {}),
          timeoutMs: fetchTimeoutMs,
          ...(options.alibabaNonces ? { nonces: options.alibabaNonces } : {}),
        }))

  async function verify(authorization: readonly string[] | undefined): Promise<Caller> {
    const credential = alibabaCredential(authorization)
    // Without an alibaba-identity issuer the scheme is as foreign as any other non-Bearer one.
    if (credential !== undefined && alibaba) return marked(await alibaba.verify(credential), mark)
    const token = parseBearer(authorization)
    const cached = cache.get(token)
    if (cached) return cached

    const { header, payload } = decodeUnverified(token)
    const iss = payload['iss']
    if (typeof iss !== 'string') throw refused('iss_missing')
    const issuer = byIssuer.get(iss)
    if (!issuer) throw refused('unknown_issuer')
    const { config } = issuer
    // jose checks alg too, but only after discovery; refusing here keeps `none` & co. off the network.
    if (typeof header['alg'] !== 'string' || !config.algorithms.includes(header['alg'])) {
      throw refused('ERR_JOSE_ALG_NOT_ALLOWED')
    }

    const currentDate = now()
    let verified: Record<string, unknown>
    try {
      const keySet = await issuer.keys.keySet()
      const { payload: claims } = await jwtVerify(token, keySet, verifyOptions(config, currentDate))
      verified = claims as Record<string, unknown>
    } catch (err) {
      throw toAppError(err)
    }
    const subject = checkVerifiedClaims(verified, config, currentDate)
    const caller = verifiedCaller(config, subject, verified, mark)
    cache.set(token, caller, cacheDeadline(verified, config, currentDate, JWKS_CACHE_MAX_AGE_MS))
    return caller
  }

  async function readiness() {
    const results = await Promise.all(
      [...byIssuer.values()].map(async ({ config, keys }) => [config.id, await keys.readiness()] as const),
    )
    return {
      ready: results.every(([, state]) => state.ready),
      issuers: Object.fromEntries(results) as Record<string, { ready: boolean; reason?: string }>,
    }
  }

  return { verify, readiness }
}

/** `caller` with the verifier's mark (an Alibaba identity Caller is made anew per request, never cached). */
function marked(caller: Caller, mark: object | undefined): Caller {
  return mark ? { ...caller, verifiedBy: mark } : caller
}

/**
 * The Caller of a verified token. The configured issuer string (equal to `iss`, which chose the issuer)
 * is shared by every cached caller of the issuer instead of one copy per token (issue 22). Short claim
 * values (`aud`, groups) need no such help: JSON.parse already interns them.
 */
function verifiedCaller(
  config: IssuerConfig,
  subject: string,
  claims: Record<string, unknown>,
  mark: object | undefined,
): Caller {
  claims['iss'] = config.issuer
  // One literal with every field: a field added later would need a property store of its own per Caller.
  return { issuerId: config.id, issuer: config.issuer, subject, claims: deepFreeze(claims), verifiedBy: mark }
}

/** The credential of a single `Authorization: AlibabaIdentity <credential>` header; otherwise undefined. */
function alibabaCredential(values: readonly string[] | undefined): string | undefined {
  if (values?.length !== 1) return undefined
  const value = values[0] ?? ''
  const space = value.indexOf(' ')
  if (space === -1 || value.slice(0, space).toLowerCase() !== ALIBABA_SCHEME.toLowerCase()) return undefined
  return value.slice(space + 1)
}

function verifyOptions(config: IssuerConfig, currentDate: Date): JWTVerifyOptions {
  return {
    algorithms: config.algorithms,
    issuer: config.issuer,
    audience: config.audiences,
    clockTolerance: config.clockToleranceSeconds,
    currentDate,
    // jose does not require exp by default; sub is checked for presence here and for type in claims.ts.
    requiredClaims: ['exp', 'sub'],
    ...(config.maxTokenAgeSeconds === undefined ? {} : { maxTokenAge: config.maxTokenAgeSeconds }),
    ...(config.typ === undefined ? {} : { typ: config.typ }),
  }
}

// jose codes that mean the issuer's keys could not be obtained, not that the token is bad.
const UPSTREAM_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'])

function toAppError(err: unknown): InvalidToken | UpstreamUnavailable {
  if (err instanceof IssuerFetchError) {
    return new UpstreamUnavailable(err.retryAfterMs / 1000, {
      reason: `issuer_keys_${err.reason}`,
      cause: err,
    })
  }
  if (err instanceof joseErrors.JOSEError) {
    if (UPSTREAM_CODES.has(err.code)) return new UpstreamUnavailable(1, { reason: err.code })
    // The claim name only: jose's errors also carry the payload, which never goes to a log.
    if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) {
      return refused(`${err.code}:${err.claim}:${err.reason}`)
    }
    return refused(err.code)
  }
  // jose throws TypeError for keys it will not use (e.g. an RSA key under 2048 bits in the JWKS).
  return refused(`verify_failed_${err instanceof Error ? err.name : 'unknown'}`)
}

function refused(reason: string): InvalidToken {
  return new InvalidToken({ presented: true, reason })
}

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`)
  return value
}

// Cached Callers are shared between requests: nobody downstream may change a verified claim.
function deepFreeze<T extends object>(value: T): T {
  const pending: object[] = [value]
  while (pending.length > 0) {
    const next = pending.pop() as object
    if (Object.isFrozen(next)) continue
    Object.freeze(next)
    for (const child of Object.values(next)) {
      if (typeof child === 'object' && child !== null) pending.push(child)
    }
  }
  return value
}
