// Classifies whatever an AssumeRole attempt threw: throttled or unavailable (retryable) versus rejected (our config's fault).

/**
 * - `throttled`: STS flow control (`Throttling*`), retryable, may carry a retry-after;
 * - `unavailable`: 5xx, network errors, timeouts, unparseable bodies, an unresolvable own identity: retryable;
 * - `rejected`: any other 4xx (NoPermission, EntityNotExist.*, InvalidParameter.*, MissingParameter.*,
 *   AccessKey and signature problems): a configuration problem, never retried.
 */
export type StsFailureKind = 'throttled' | 'unavailable' | 'rejected'

/** What may be logged about a failed call: never the SDK's message, which holds the URL with the Policy. */
export interface StsFailure {
  kind: StsFailureKind
  /** Alibaba's Code, a Node network code (ECONNRESET), or the error name (RequestTimeoutError, SyntaxError). */
  code: string
  statusCode: number | null
  requestId: string | null
  /** x-acs-retry-after as the SDK reports it (`ThrottlingError.retryAfter`), in milliseconds. */
  retryAfterMs: number | null
}

// Codes and request ids are copied into logs: keep them to short identifier-like strings.
const SAFE_TOKEN = /^[A-Za-z0-9._:-]{1,80}$/

function safe(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const text = String(value)
  return text !== 'undefined' && SAFE_TOKEN.test(text) ? text : null
}

function field(err: object, name: string): unknown {
  return (err as Record<string, unknown>)[name]
}

/**
 * Maps an error thrown by `@alicloud/openapi-core` (ThrottlingError, ClientError, ServerError), by the
 * legacy `@alicloud/openapi-client` (ResponseError with `data.statusCode`), by Node's HTTP stack, or by
 * the credential provider, to a StsFailure. Reads only `name`, `code`, `statusCode`, `requestId`,
 * `retryAfter` and `data`; never `message`.
 */
export function classifyStsError(err: unknown): StsFailure {
  if (typeof err !== 'object' || err === null)
    return { kind: 'unavailable', code: 'Unknown', statusCode: null, requestId: null, retryAfterMs: null }
  const data = field(err, 'data')
  const dataField = (name: string) =>
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined
  const name = safe(field(err, 'name'))
  const rawStatus = field(err, 'statusCode') ?? dataField('statusCode')
  const statusCode = typeof rawStatus === 'number' && Number.isInteger(rawStatus) ? rawStatus : null
  const code = safe(field(err, 'code')) ?? safe(dataField('Code')) ?? name ?? 'Unknown'
  const requestId = safe(field(err, 'requestId')) ?? safe(dataField('RequestId'))
  const retryAfter = field(err, 'retryAfter')
  const retryAfterMs =
    typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null
  const failure = (kind: StsFailureKind): StsFailure => ({ kind, code, statusCode, requestId, retryAfterMs })

  if (name === 'SyntaxError') return { ...failure('unavailable'), code: 'SyntaxError' }
  if (name === 'ThrottlingError' || code.includes('Throttling') || statusCode === 429)
    return failure('throttled')
  if (statusCode !== null && (statusCode >= 500 || statusCode === 408)) return failure('unavailable')
  if (statusCode !== null && statusCode >= 400) return failure('rejected')
  // No status: a network error (ECONNRESET, ENOTFOUND…), a timeout (RequestTimeoutError), or the
  // credential chain could not produce our own identity. All transient from the caller's point of view.
  return failure('unavailable')
}
