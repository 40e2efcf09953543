// One issuer's signing keys: jwksUri or OIDC discovery, then jose's remote JWKS behind our fetch guard.
import { createRemoteJWKSet, customFetch, type FetchImplementation, type RemoteJWKSet } from 'jose'
import type { IssuerConfig } from '../config/index.ts'
import { isLoopbackHost } from '../config/index.ts'
import type { Logger } from '../logger.ts'
import { FetchGuard, IssuerFetchError, type JsonCheck } from './guarded-fetch.ts'

/** Keys older than this are refetched before use (jose `cacheMaxAge`), so removed keys stop working. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60 * 1000

// JWK members that only a private or symmetric key has: a key set carrying them is a leaking IdP.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

/** RSA moduli shorter than this are refused (NIST SP 800-131A; jose refuses them for RS and PS too). */
export const MIN_RSA_BITS = 2048

/** The bit length of an RSA JWK's modulus `n` (base64url, big-endian), or undefined when there is none. */
export function rsaModulusBits(key: Record<string, unknown>): number | undefined {
  if (key['kty'] !== 'RSA' || typeof key['n'] !== 'string') return undefined
  const n = Buffer.from(key['n'], 'base64url')
  let i = 0
  while (i < n.length && n[i] === 0) i++
  if (i === n.length) return 0
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i] ?? 0))
}

export interface IssuerKeysOptions {
  fetch: typeof fetch
  now: () => Date
  fetchTimeoutMs: number
  cooldownMs: number
  logger?: Logger | undefined
}

/**
 * Resolves and caches one issuer's keys. Nothing is fetched until a token of this issuer (or the
 * readiness probe) needs them; discovery succeeds once and its `jwks_uri` is kept for the process.
 * Every failure is an IssuerFetchError (the caller answers 503), never a crash.
 */
export class IssuerKeys {
  readonly #config: IssuerConfig
  readonly #options: IssuerKeysOptions
  readonly #guard: FetchGuard
  #keySet: RemoteJWKSet | undefined
  #resolving: Promise<RemoteJWKSet> | undefined

  constructor(config: IssuerConfig, options: IssuerKeysOptions) {
    this.#config = config
    this.#options = options
    this.#guard = new FetchGuard({
      fetch: options.fetch,
      now: options.now,
      maxBackoffMs: options.cooldownMs,
      onFailure: (reason) =>
        options.logger?.warn(
          { event: 'auth.issuer_fetch_failed', issuer_id: config.id, reason },
          'issuer keys',
        ),
    })
  }

  /** jose's key resolver for this issuer, after discovery when configured. Throws IssuerFetchError. */
  async keySet(): Promise<RemoteJWKSet> {
    if (this.#keySet) return this.#keySet
    this.#resolving ??= this.#resolve().finally(() => {
      this.#resolving = undefined
    })
    return this.#resolving
  }

  /** Ready once keys have been fetched and the latest fetch did not fail; tries a fetch otherwise. */
  async readiness(): Promise<{ ready: boolean; reason?: string }> {
    try {
      const keySet = await this.keySet()
      if (keySet.jwks() === undefined || this.#guard.lastFailure !== undefined) await keySet.reload()
      return { ready: true }
    } catch (err) {
      if (!(err instanceof IssuerFetchError)) return { ready: false, reason: 'jwks_invalid' }
      // While backing off, report what actually went wrong rather than the wait.
      return {
        ready: false,
        reason: err.reason === 'backoff' ? (this.#guard.lastFailure ?? err.reason) : err.reason,
      }
    }
  }

  async #resolve(): Promise<RemoteJWKSet> {
    const jwksUri = this.#config.jwksUri ?? (await this.#discover())
    const jwksFetch: FetchImplementation = async (url, init) => {
      const json = await this.#guard.getJson(url, init.signal, this.#checkJwks, init.headers)
      return new Response(JSON.stringify(json), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })
    }
    this.#keySet = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.#options.fetchTimeoutMs,
      cooldownDuration: this.#options.cooldownMs,
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      [customFetch]: jwksFetch,
    })
    return this.#keySet
  }

  async #discover(): Promise<string> {
    // OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, + /.well-known/openid-configuration.
    const url = `${this.#config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
    const doc = (await this.#guard.getJson(
      url,
      AbortSignal.timeout(this.#options.fetchTimeoutMs),
      this.#checkDiscovery,
    )) as { jwks_uri: string }
    return doc.jwks_uri
  }

  readonly #checkDiscovery: JsonCheck = (json) => {
    if (!isRecord(json)) return 'discovery_not_object'
    // OIDC Discovery §4.3: the document's issuer must be exactly the one we trust.
    if (json['issuer'] !== this.#config.issuer) return 'discovery_issuer_mismatch'
    const jwksUri = json['jwks_uri']
    if (typeof jwksUri !== 'string') return 'discovery_jwks_uri_missing'
    let parsed: URL
    try {
      parsed = new URL(jwksUri)
    } catch {
      return 'discovery_jwks_uri_invalid'
    }
    const secure =
      parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))
    return secure ? undefined : 'discovery_jwks_uri_not_https'
  }

  /** The whole key set is refused (the issuer is not ready, its tokens get 503), with one line saying why. */
  #weakKey(key: Record<string, unknown>, bits: number): void {
    this.#options.logger?.warn(
      {
        event: 'auth.jwks_weak_key',
        issuer_id: this.#config.id,
        kid: typeof key['kid'] === 'string' ? key['kid'].slice(0, 64) : null,
        bits,
        min_bits: MIN_RSA_BITS,
      },
      `the issuer publishes an RSA key under ${MIN_RSA_BITS} bits; its key set is refused`,
    )
  }

  readonly #checkJwks: JsonCheck = (json) => {
    if (!isRecord(json) || !Array.isArray(json['keys'])) return 'jwks_not_a_key_set'
    const kids = new Set<string>()
    const duplicates = new Set<string>()
    for (const key of json['keys'] as unknown[]) {
      if (!isRecord(key)) return 'jwks_not_a_key_set'
      if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(key, member))) return 'jwks_private_key_material'
      const bits = rsaModulusBits(key)
      if (bits !== undefined && bits < MIN_RSA_BITS) {
        this.#weakKey(key, bits)
        return 'jwks_weak_key'
      }
      const kid = key['kid']
      if (typeof kid === 'string') {
        if (kids.has(kid)) duplicates.add(kid)
        kids.add(kid)
      }
    }
    if (duplicates.size > 0) {
      // jose refuses a token whose kid matches several keys (it never tries each one); say why.
      this.#options.logger?.warn(
        {
          event: 'auth.jwks_duplicate_kid',
          issuer_id: this.#config.id,
          kids: [...duplicates].slice(0, 10).map((kid) => kid.slice(0, 64)),
        },
        'the issuer publishes several keys with one kid; tokens naming it are refused',
      )
    }
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
