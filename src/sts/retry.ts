// Bounded retries with full jitter, honouring x-acs-retry-after (milliseconds, as the Alibaba SDKs read it).

export interface RetryPolicy {
  /** Every call counts, the first included (as the SDK's own retryOptions count). From sts.maxAttempts. */
  maxAttempts: number
  /** Jitter ceiling of the first retry, doubled per retry. Default 100 ms. */
  baseDelayMs: number
  /** Jitter ceiling. Default 1000 ms. */
  maxDelayMs: number
  /**
   * The longest single wait. When STS asks for more (x-acs-retry-after), we stop retrying and pass the
   * wait on as Retry-After instead of holding the caller's request. Default 2000 ms.
   */
  maxRetryWaitMs: number
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'maxAttempts'> = {
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxRetryWaitMs: 2000,
}

/**
 * The wait before retry number `retry` (1 = the second call): full jitter, uniform in
 * [0, min(maxDelayMs, baseDelayMs · 2^(retry−1))), but never less than STS's retry-after.
 */
export function retryDelayMs(
  retry: number,
  policy: Omit<RetryPolicy, 'maxAttempts'>,
  retryAfterMs: number | null,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  const jitter = Math.floor(random() * ceiling)
  return retryAfterMs === null ? jitter : Math.max(retryAfterMs, jitter)
}
