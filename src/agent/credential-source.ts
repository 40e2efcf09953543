// The agent's credentials: read the JWT file, GET sts-vend's /v1/credentials?format=json with it, cache until refreshAfter.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Logger } from '../logger.ts'
import { readCapped } from '../read-capped.ts'
import { RefreshError } from './errors.ts'

/** Credentials as the agent serves them; the times are Dates, formatted only on the way out. */
export interface AgentCredentials {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string
  expiration: Date
  refreshAfter: Date
  /** When the agent received them from sts-vend (ECS `LastUpdated`). */
  fetchedAt: Date
}

export interface CredentialSourceOptions {
  /** sts-vend's base URL, e.g. `https://sts-vend.example.com`; `/v1/credentials` is appended. */
  server: string
  /** The file holding the caller's JWT, re-read on every request (e.g. a projected service-account token). */
  tokenFile: string
  /**
   * Replaces the token file (`--alibaba-identity`, issue 21): a fresh Authorization header value
   * (`AlibabaIdentity …`) for each request to sts-vend, since each login is good for one request.
   */
  authorization?: (() => Promise<string>) | undefined
  rule?: string | undefined
  prefix?: string | undefined
  access?: string | undefined
  logger: Logger
  /** Per upstream request. Default 5000 ms. */
  timeoutMs?: number
  now?: () => Date
  fetch?: typeof fetch
}

export interface CredentialSource {
  /**
   * Valid credentials: the cached ones until their `refreshAfter` and while the token file is unchanged,
   * else fresh ones from sts-vend. When a refresh fails, cached credentials that have not expired are
   * served (retrying upstream at most once per backoff step); otherwise it throws RefreshError.
   */
  get(): Promise<AgentCredentials>
}

/** sts-vend answers far less; anything bigger is not a credentials body. */
const MAX_RESPONSE_BYTES = 64 * 1024
/** Even when sts-vend says "refresh now", keep an answer this long so a busy client cannot turn every GET into an upstream call. */
const MIN_CACHE_MS = 1000
/** After a failed refresh with valid credentials cached, wait this long (doubling, capped) before asking again. */
const FIRST_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000
const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

interface Entry {
  credentials: AgentCredentials
  tokenDigest: string
  /** When to ask again: refreshAfter, no sooner than MIN_CACHE_MS after fetching, no later than expiration. */
  refreshAt: number
  sequence: number
}

const digestOf = (token: string) => createHash('sha256').update(token).digest('hex')

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !UTC_SECONDS.test(value)) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

function parseCredentials(body: unknown, fetchedAt: Date): AgentCredentials | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Record<string, unknown>
  const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  const expiration = parseTime(b['expiration'])
  const refreshAfter = parseTime(b['refreshAfter'])
  if (!nonEmpty(b['accessKeyId']) || !nonEmpty(b['accessKeySecret']) || !nonEmpty(b['securityToken']))
    return undefined
  if (!expiration || !refreshAfter || expiration.getTime() <= fetchedAt.getTime()) return undefined
  return {
    accessKeyId: b['accessKeyId'],
    accessKeySecret: b['accessKeySecret'],
    securityToken: b['securityToken'],
    expiration,
    refreshAfter,
    fetchedAt,
  }
}

/** The body as text, or undefined past MAX_RESPONSE_BYTES (reading stops there and the connection is dropped). */
async function readLimited(response: Response): Promise<string | undefined> {
  const bytes = await readCapped(response, MAX_RESPONSE_BYTES)
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
}

/** Where and how to ask sts-vend, resolved once from the options. */
interface Upstream {
  url: URL
  tokenFile: string
  authorization: (() => Promise<string>) | undefined
  doFetch: typeof fetch
  timeoutMs: number
  now: () => Date
  logger: Logger
}

function upstreamOf(options: CredentialSourceOptions): Upstream {
  const url = new URL(`${options.server.replace(/\/+$/, '')}/v1/credentials`)
  url.searchParams.set('format', 'json')
  for (const name of ['rule', 'prefix', 'access'] as const) {
    const value = options[name]
    if (value !== undefined) url.searchParams.set(name, value)
  }
  return {
    url,
    tokenFile: options.tokenFile,
    authorization: options.authorization,
    doFetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? 5000,
    now: options.now ?? (() => new Date()),
    logger: options.logger,
  }
}

async function readToken(up: Upstream): Promise<string> {
  // One identity for the whole run: the cache is kept until refreshAfter, as for an unchanged file.
  if (up.authorization) return 'alibaba-identity'
  const { tokenFile } = up
  let token: string
  try {
    token = (await readFile(tokenFile, 'utf8')).trim()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new RefreshError(
      'token_file_unreadable',
      `cannot read the token file (${typeof code === 'string' ? code : 'error'})`,
    )
  }
  if (token === '') throw new RefreshError('token_file_unreadable', 'the token file is empty')
  return token
}

/** The Authorization header value: the bearer token, or a fresh Alibaba identity login. */
async function authorizationFor(up: Upstream, token: string): Promise<string> {
  if (!up.authorization) return `Bearer ${token}`
  try {
    return await up.authorization()
  } catch {
    // The provider's message can quote metadata or STS answers: keep only what failed.
    throw new RefreshError('cannot_sign', 'cannot sign an Alibaba identity login')
  }
}

/** GETs the credentials with the token: the status and the parsed body (undefined when not JSON or too big). */
async function callUpstream(up: Upstream, token: string): Promise<{ status: number; body: unknown }> {
  let response: Response
  try {
    response = await up.doFetch(up.url, {
      headers: { authorization: await authorizationFor(up, token), accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(up.timeoutMs),
    })
  } catch (err) {
    if (err instanceof RefreshError) throw err
    const name = (err as { name?: unknown }).name
    throw new RefreshError(
      'upstream_unreachable',
      name === 'TimeoutError'
        ? `sts-vend did not answer within ${up.timeoutMs} ms`
        : 'sts-vend is unreachable',
    )
  }
  const text = await readLimited(response).catch(() => undefined)
  let body: unknown
  try {
    body = text === undefined ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: response.status, body }
}

/** The credentials of a 200 answer; RefreshError for any other answer or an unusable body. */
function credentialsOf(status: number, body: unknown, fetchedAt: Date): AgentCredentials {
  if (status !== 200) {
    const code = (body as { error?: unknown } | undefined)?.error
    const upstreamError = typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : undefined
    throw new RefreshError(
      'upstream_refused',
      `sts-vend answered ${status}${upstreamError ? ` ${upstreamError}` : ''}`,
      status,
      upstreamError,
    )
  }
  const credentials = parseCredentials(body, fetchedAt)
  if (!credentials)
    throw new RefreshError('upstream_invalid', 'sts-vend answered 200 without valid json-format credentials')
  return credentials
}

/** The cache's state: the one object a request reads and a refresh replaces. */
class CredentialCache implements CredentialSource {
  private cached: Entry | undefined
  private inflight: { tokenDigest: string; promise: Promise<Entry> } | undefined
  private sequence = 0
  private failures = 0
  private retryAt = 0

  constructor(private readonly up: Upstream) {}

  async get(): Promise<AgentCredentials> {
    let token: string
    try {
      token = await readToken(this.up)
    } catch (err) {
      return this.fallBack(err)
    }
    const tokenDigest = digestOf(token)
    const entry = this.cached
    const t = this.up.now().getTime()
    const tokenChanged = entry !== undefined && entry.tokenDigest !== tokenDigest
    if (entry && !tokenChanged && t < entry.refreshAt) return entry.credentials
    if (this.stillValid(entry) && t < this.retryAt) return entry.credentials
    const reason = entry === undefined ? 'first' : tokenChanged ? 'token_changed' : 'refresh_due'
    try {
      return (await this.refresh(token, tokenDigest, reason)).credentials
    } catch (err) {
      return this.fallBack(err)
    }
  }

  private stillValid(entry: Entry | undefined): entry is Entry {
    return entry !== undefined && this.up.now().getTime() < entry.credentials.expiration.getTime()
  }

  private refresh(token: string, tokenDigest: string, reason: string): Promise<Entry> {
    if (this.inflight?.tokenDigest === tokenDigest) return this.inflight.promise
    const promise = this.fetchEntry(token, tokenDigest, reason).finally(() => {
      if (this.inflight?.promise === promise) this.inflight = undefined
    })
    this.inflight = { tokenDigest, promise }
    return promise
  }

  private async fetchEntry(token: string, tokenDigest: string, reason: string): Promise<Entry> {
    this.sequence += 1
    const mySequence = this.sequence
    const { status, body } = await callUpstream(this.up, token)
    const fetchedAt = this.up.now()
    const credentials = credentialsOf(status, body, fetchedAt)
    const refreshAt = Math.min(
      Math.max(credentials.refreshAfter.getTime(), fetchedAt.getTime() + MIN_CACHE_MS),
      credentials.expiration.getTime(),
    )
    const entry: Entry = { credentials, tokenDigest, refreshAt, sequence: mySequence }
    // A slower, older request must not replace what a newer one (e.g. for a rotated token) cached.
    if (!this.cached || this.cached.sequence < mySequence) this.cached = entry
    this.failures = 0
    this.retryAt = 0
    this.up.logger.info(
      {
        event: 'agent.refreshed',
        reason,
        expiration: credentials.expiration.toISOString(),
        refreshAt: new Date(refreshAt).toISOString(),
      },
      'credentials refreshed',
    )
    return entry
  }

  private fallBack(err: unknown): AgentCredentials {
    const entry = this.cached
    if (!(err instanceof RefreshError) || !this.stillValid(entry)) throw err
    this.failures += 1
    this.retryAt =
      this.up.now().getTime() + Math.min(FIRST_BACKOFF_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS)
    this.up.logger.warn(
      {
        event: 'agent.refresh_failed',
        reason: err.reason,
        status: err.upstreamStatus,
        upstreamError: err.upstreamError,
        servingCachedUntil: entry.credentials.expiration.toISOString(),
      },
      'refresh failed; serving cached credentials',
    )
    return entry.credentials
  }
}

/** Creates the agent's credential cache for one sts-vend server and one token file. */
export function createCredentialSource(options: CredentialSourceOptions): CredentialSource {
  return new CredentialCache(upstreamOf(options))
}
