// Every network read of an issuer (discovery, JWKS) goes through here: size cap, JSON only, no redirects, backoff.
import { readCapped } from '../read-capped.ts'

/** Discovery documents and key sets larger than this are refused (memory stays bounded). */
export const MAX_METADATA_BYTES = 512 * 1024

/** The first wait after a failed fetch; it doubles per consecutive failure up to the cooldown. */
export const FIRST_BACKOFF_MS = 1000

/**
 * A discovery or JWKS read that failed, or that was not attempted because the issuer is backing off.
 * `reason` is a short code for logs and /readyz (`http_503`, `timeout`, `backoff`…); it never holds
 * a response body.
 */
export class IssuerFetchError extends Error {
  constructor(
    readonly reason: string,
    /** How long until the next fetch may be attempted, by the injected clock. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(`issuer metadata unavailable: ${reason}`, options)
    this.name = 'IssuerFetchError'
  }
}

export interface FetchGuardOptions {
  fetch: typeof fetch
  now: () => Date
  /** The longest wait between attempts after failures (the JWKS cooldown). 0 disables backoff. */
  maxBackoffMs: number
  maxBytes?: number
  onFailure?: (reason: string) => void
}

/** Returns a reason when `json` is unacceptable, or undefined when it is fine. */
export type JsonCheck = (json: unknown) => string | undefined

/**
 * One issuer's gate to the network. jose's JWKS cooldown only starts after a successful fetch, so a
 * dead endpoint would otherwise be fetched on every request; after a failure this gate allows at most
 * one attempt per backoff window (1 s, doubling, capped at `maxBackoffMs`) and answers every other
 * caller at once, without I/O, with an IssuerFetchError.
 */
export class FetchGuard {
  #failures = 0
  #blockedUntil = 0
  #lastFailure: string | undefined
  readonly #options: FetchGuardOptions

  constructor(options: FetchGuardOptions) {
    this.#options = options
  }

  /** The reason of the last attempt when it failed; undefined after a success or before any attempt. */
  get lastFailure(): string | undefined {
    return this.#lastFailure
  }

  /**
   * GETs `url` and returns its JSON body. Refuses (IssuerFetchError): any status but 200 (redirects
   * are not followed), a media type other than application/json or application/*+json, a body over
   * the size cap, invalid UTF-8 or JSON, and anything `check` rejects.
   */
  async getJson(url: string, signal: AbortSignal, check: JsonCheck, headers?: Headers): Promise<unknown> {
    const now = this.#options.now().getTime()
    if (now < this.#blockedUntil) throw new IssuerFetchError('backoff', this.#blockedUntil - now)
    try {
      const json = await this.#fetchJson(url, signal, headers)
      const problem = check(json)
      if (problem !== undefined) throw new IssuerFetchError(problem, 0)
      this.#failures = 0
      this.#blockedUntil = 0
      this.#lastFailure = undefined
      return json
    } catch (err) {
      const reason = err instanceof IssuerFetchError ? err.reason : classify(err)
      this.#failures += 1
      const wait = Math.min(this.#options.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** (this.#failures - 1))
      this.#blockedUntil = this.#options.now().getTime() + wait
      this.#lastFailure = reason
      this.#options.onFailure?.(reason)
      throw new IssuerFetchError(reason, wait, { cause: err })
    }
  }

  async #fetchJson(url: string, signal: AbortSignal, headers?: Headers): Promise<unknown> {
    const maxBytes = this.#options.maxBytes ?? MAX_METADATA_BYTES
    const requestHeaders = new Headers(headers)
    if (!requestHeaders.has('accept')) requestHeaders.set('accept', 'application/json')
    const response = await this.#options.fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: requestHeaders,
    })
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined)
      throw new IssuerFetchError(
        response.status >= 300 && response.status < 400 ? 'redirect_refused' : `http_${response.status}`,
        0,
      )
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
      await response.body?.cancel().catch(() => undefined)
      throw new IssuerFetchError('not_json_media_type', 0)
    }
    const bytes = await readCapped(response, maxBytes)
    if (bytes === undefined) throw new IssuerFetchError('too_large', 0)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw new IssuerFetchError('invalid_utf8', 0)
    }
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new IssuerFetchError('invalid_json', 0)
    }
  }
}

function classify(err: unknown): string {
  const name = err instanceof Error ? err.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout'
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code
  return typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? `network_${code}` : 'network_error'
}
