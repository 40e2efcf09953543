// Wraps one AssumeRole attempt in the call-rate cap, the circuit breaker and bounded jittered retries.
import { setTimeout as delay } from 'node:timers/promises'
import { UpstreamError, UpstreamUnavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { AssumeRoleInput, StsCredentials } from '../types.ts'
import { type BreakerState, createCircuitBreaker } from './circuit-breaker.ts'
import { classifyStsError, type StsFailure } from './error-mapping.ts'
import { createRateCap, type RateCap } from './rate-cap.ts'
import { DEFAULT_RETRY, type RetryPolicy, retryDelayMs } from './retry.ts'

/**
 * Per-call outcomes: `success`; `throttled` and `unavailable` (retryable failures); `error` (STS refused
 * or answered something untrustworthy: upstream_error); `rejected` (not sent: circuit open or rate cap).
 */
export type StsCallOutcome = 'success' | 'throttled' | 'error' | 'unavailable' | 'rejected'

/** Hooks for metrics (prom-client later). */
export interface StsObserver {
  call(outcome: StsCallOutcome, seconds: number): void
  breaker(state: BreakerState): void
}

export interface ResilienceOptions {
  /** One AssumeRole call. Throws the SDK's errors, or UpstreamError for an untrustworthy answer. */
  attempt: (input: AssumeRoleInput) => Promise<StsCredentials>
  maxAttempts: number
  maxCallsPerSecond: number
  /** Replaces the local cap of maxCallsPerSecond (fleet mode: the fleet's budget in Redis). */
  rateCap?: RateCap
  logger: Logger
  observer?: StsObserver
  retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>
  /** Defaults: 5 consecutive failures, open 10 s. */
  breaker?: { failureThreshold?: number; openMs?: number }
  /** Milliseconds clock for the breaker, the rate cap and timings. Default Date.now. */
  clock?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

// A Retry-After we pass on is capped: an hour-long x-acs-retry-after must not park clients for an hour.
const MAX_RETRY_AFTER_SECONDS = 60

const retryAfterSeconds = (ms: number) => Math.min(MAX_RETRY_AFTER_SECONDS, ms / 1000)

function unavailableReason(failure: StsFailure, attempts: number): string {
  return `STS ${failure.kind} after ${attempts} attempt(s): ${failure.code}${failure.statusCode === null ? '' : ` (${failure.statusCode})`}${failure.requestId ? `, request ${failure.requestId}` : ''}`
}

/** The parts one call goes through, built once. */
interface Resilience {
  options: ResilienceOptions
  breaker: ReturnType<typeof createCircuitBreaker>
  rateCap: RateCap
  clock: () => number
}

type Permit = Extract<ReturnType<Resilience['breaker']['acquire']>, { ok: true }>['permit']

/** A circuit permit and a rate-cap slot, or throws UpstreamUnavailable (the call is `rejected`, not sent). */
async function admit(r: Resilience): Promise<Permit> {
  const admitted = r.breaker.acquire()
  if (!admitted.ok) {
    r.options.observer?.call('rejected', 0)
    throw new UpstreamUnavailable(admitted.retryAfterMs / 1000, { reason: 'STS circuit open' })
  }
  try {
    await r.rateCap.acquire()
  } catch (err) {
    admitted.permit.cancel()
    r.options.observer?.call('rejected', 0)
    throw err
  }
  return admitted.permit
}

/**
 * One attempt: the credentials, or a retryable StsFailure returned for the loop; UpstreamError (an
 * untrustworthy answer or an STS refusal) is thrown at once.
 */
async function attemptOnce(
  r: Resilience,
  input: AssumeRoleInput,
  attempt: number,
): Promise<{ credentials: StsCredentials } | { failure: StsFailure }> {
  const { logger, observer } = r.options
  const permit = await admit(r)
  const started = r.clock()
  const seconds = () => (r.clock() - started) / 1000
  const fields = { event: 'sts.call', role_arn: input.roleArn, attempt }
  try {
    const credentials = await r.options.attempt(input)
    permit.success()
    observer?.call('success', seconds())
    logger.debug({ ...fields, outcome: 'success', request_id: credentials.requestId }, 'AssumeRole')
    return { credentials }
  } catch (err) {
    if (err instanceof UpstreamError) {
      // STS answered, but with credentials we cannot trust: alert, never retry or cache.
      permit.success()
      observer?.call('error', seconds())
      logger.error({ ...fields, outcome: 'error', reason: err.reason }, 'AssumeRole answer refused')
      throw err
    }
    const failure = classifyStsError(err)
    const logged = {
      ...fields,
      code: failure.code,
      status_code: failure.statusCode,
      request_id: failure.requestId,
    }
    if (failure.kind === 'rejected') {
      permit.success()
      observer?.call('error', seconds())
      logger.error({ ...logged, outcome: 'error' }, 'STS refused AssumeRole')
      throw new UpstreamError({
        reason: `STS refused AssumeRole: ${failure.code} (${failure.statusCode}), request ${failure.requestId ?? 'unknown'}`,
      })
    }
    permit.failure()
    observer?.call(failure.kind, seconds())
    logger.warn({ ...logged, outcome: failure.kind }, 'AssumeRole failed')
    return { failure }
  }
}

/**
 * Builds `assumeRole(input)` over `attempt`: each call first waits for a rate-cap slot (UpstreamUnavailable
 * past 1 s), is refused while the circuit is open (UpstreamUnavailable, Retry-After = open time left),
 * and is retried on throttling, 5xx, network errors and unparseable answers up to maxAttempts calls in
 * all, with full-jitter backoff that never undercuts x-acs-retry-after; a retry-after beyond
 * maxRetryWaitMs ends the retries at once (Retry-After passed on, capped at 60 s). STS refusals (4xx) become
 * UpstreamError at once. Logs only code, statusCode and requestId of a failure, never its message.
 */
export function createResilientAssumeRole(
  options: ResilienceOptions,
): (input: AssumeRoleInput) => Promise<StsCredentials> {
  const { logger, observer } = options
  const clock = options.clock ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => delay(ms))
  const random = options.random ?? Math.random
  const retry = { ...DEFAULT_RETRY, ...options.retry }
  const breaker = createCircuitBreaker({
    ...options.breaker,
    now: clock,
    onStateChange: (state) => {
      logger.warn({ event: 'sts.breaker', state }, `STS circuit ${state}`)
      observer?.breaker(state)
    },
  })
  const rateCap =
    options.rateCap ?? createRateCap({ perSecond: options.maxCallsPerSecond, now: clock, sleep })
  const resilience: Resilience = { options, breaker, rateCap, clock }

  return async function assumeRole(input) {
    let last: StsFailure | undefined
    for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
      if (last) {
        const wait = retryDelayMs(attempt - 1, retry, last.retryAfterMs, random)
        if (wait > retry.maxRetryWaitMs) {
          throw new UpstreamUnavailable(retryAfterSeconds(wait), {
            reason: unavailableReason(last, attempt - 1),
          })
        }
        await sleep(wait)
      }
      const outcome = await attemptOnce(resilience, input, attempt)
      if ('credentials' in outcome) return outcome.credentials
      last = outcome.failure
    }
    const final = last as StsFailure
    throw new UpstreamUnavailable(retryAfterSeconds(final.retryAfterMs ?? 0), {
      reason: unavailableReason(final, options.maxAttempts),
    })
  }
}
