// The error catalogue of design §7: one class per code, and one function from any thrown value to HTTP.

/** Every error code a caller can receive. Callers branch on these strings; they never change. */
export const ERROR_CATALOGUE = {
  invalid_request: { status: 400, description: 'The request is malformed or has an invalid value.' },
  invalid_token: { status: 401, description: 'The access token is missing or invalid.' },
  access_denied: { status: 403, description: 'No rule grants the requested access.' },
  not_found: { status: 404, description: 'No such resource.' },
  method_not_allowed: { status: 405, description: 'The method is not allowed on this resource.' },
  payload_too_large: { status: 413, description: 'The request body is too large.' },
  unsupported_media_type: { status: 415, description: 'The request body must be application/json.' },
  rate_limited: { status: 429, description: 'Too many requests; retry later.' },
  server_error: { status: 500, description: 'An internal error occurred.' },
  upstream_error: { status: 502, description: 'The credential service is misconfigured upstream.' },
  upstream_unavailable: {
    status: 503,
    description: 'The upstream service is temporarily unavailable; retry later.',
  },
} as const satisfies Record<string, { status: number; description: string }>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[]

export interface AppErrorOptions {
  cause?: unknown
  /** Why, for the log only; never sent to the caller. */
  reason?: string
}

/**
 * Base of every error the service answers with. `message` is what the caller may see when
 * `expose` is true (status < 500); `reason` and `cause` are for logs only.
 */
export class AppError extends Error {
  readonly expose: boolean
  readonly status: number
  readonly reason: string | undefined

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOGUE[code].description,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = ERROR_CATALOGUE[code].status
    this.expose = this.status < 500
    this.reason = options.reason
  }
}

export class InvalidRequest extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('invalid_request', message, options)
  }
}

/** One generic description for every token problem: no oracle. The precise cause goes in `reason`. */
export class InvalidToken extends AppError {
  /** True when a Bearer credential was presented (RFC 6750 adds error="invalid_token" then). */
  readonly presented: boolean
  constructor(options: AppErrorOptions & { presented?: boolean } = {}) {
    super('invalid_token', ERROR_CATALOGUE.invalid_token.description, options)
    this.presented = options.presented ?? true
  }
}

export class AccessDenied extends AppError {
  constructor(options?: AppErrorOptions) {
    super('access_denied', ERROR_CATALOGUE.access_denied.description, options)
  }
}

export class NotFound extends AppError {
  constructor() {
    super('not_found')
  }
}

export class MethodNotAllowed extends AppError {
  constructor(readonly allow: readonly string[]) {
    super('method_not_allowed')
  }
}

export class PayloadTooLarge extends AppError {
  constructor(options?: AppErrorOptions) {
    super('payload_too_large', ERROR_CATALOGUE.payload_too_large.description, options)
  }
}

export class UnsupportedMediaType extends AppError {
  constructor() {
    super('unsupported_media_type')
  }
}

export class RateLimited extends AppError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number, options?: AppErrorOptions) {
    super('rate_limited', ERROR_CATALOGUE.rate_limited.description, options)
    this.retryAfterSeconds = toRetryAfter(retryAfterSeconds)
  }
}

/** STS refused our request (a configuration problem). Details only in `reason`. */
export class UpstreamError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('upstream_error', ERROR_CATALOGUE.upstream_error.description, options)
  }
}

/** STS or an issuer's JWKS is throttled, down, slow, or answered garbage. Retryable. */
export class UpstreamUnavailable extends AppError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds = 1, options?: AppErrorOptions) {
    super('upstream_unavailable', ERROR_CATALOGUE.upstream_unavailable.description, options)
    this.retryAfterSeconds = toRetryAfter(retryAfterSeconds)
  }
}

export class ServerError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('server_error', ERROR_CATALOGUE.server_error.description, options)
  }
}

/**
 * The service's own Alibaba identity is a root account (GetCallerIdentity `IdentityType` Account): it
 * can't assume roles, and a leaked root key owns the whole account. `serve` exits 1 with `message`.
 */
export class RootIdentityRefused extends Error {
  constructor(readonly arn: string) {
    super(
      `the Alibaba identity ${arn} is a root account (IdentityType Account): Alibaba refuses AssumeRole for root accounts and a root AccessKey must never run a service. Use a RAM user allowed sts:AssumeRole, RRSA (OIDC) on ACK, or an ECS RAM role instead`,
    )
    this.name = 'RootIdentityRefused'
  }
}

/** True for GetCallerIdentity's root type (`Account`, compared case-insensitively). */
export function isRootIdentityType(identityType: string): boolean {
  return identityType.trim().toLowerCase() === 'account'
}

/** `Retry-After` is an integer number of seconds ≥ 1 (design §6.1). */
export function toRetryAfter(seconds: number): number {
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1
}

export interface ErrorBody {
  error: ErrorCode
  error_description: string
  request_id: string
}

export interface ErrorResponse {
  status: number
  headers: Record<string, string>
  body: ErrorBody
  /** The AppError the value became; unknown values become ServerError. */
  error: AppError
}

/** Turns any thrown value into what the caller sees. Nothing internal is exposed on 5xx. */
export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  const error = err instanceof AppError ? err : new ServerError({ cause: err })
  const headers: Record<string, string> = {}
  if (error instanceof InvalidToken) {
    headers['WWW-Authenticate'] = error.presented
      ? 'Bearer realm="sts-vend", error="invalid_token"'
      : 'Bearer realm="sts-vend"'
  }
  if (error instanceof RateLimited || error instanceof UpstreamUnavailable) {
    headers['Retry-After'] = String(error.retryAfterSeconds)
  }
  if (error instanceof MethodNotAllowed) headers['Allow'] = error.allow.join(', ')
  const description = error.expose ? error.message : ERROR_CATALOGUE[error.code].description
  return {
    status: error.status,
    headers,
    body: { error: error.code, error_description: description, request_id: requestId },
    error,
  }
}
