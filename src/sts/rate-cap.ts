// Our own cap on STS calls per second (sts.maxCallsPerSecond), below Alibaba's 100 AssumeRole/s per account.
import { setTimeout as delay } from 'node:timers/promises'
import { UpstreamUnavailable } from '../errors.ts'

export interface RateCapOptions {
  perSecond: number
  /** How long a call over the cap may wait for a slot before it is refused. Default 1000 ms. */
  maxWaitMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** Grants STS call slots: at most `perSecond` in any sliding one-second window. */
export interface RateCap {
  /** Resolves when the call may go. Throws UpstreamUnavailable (Retry-After = wait needed) past maxWaitMs. */
  acquire(): Promise<void>
}

/**
 * Creates a cap over a sliding one-second window. Slots are reserved in arrival order, so waiting calls
 * go first-come first-served and none waits longer than maxWaitMs.
 */
export function createRateCap(options: RateCapOptions): RateCap {
  const { perSecond } = options
  if (!(Number.isInteger(perSecond) && perSecond >= 1)) throw new TypeError('perSecond must be ≥ 1')
  const maxWaitMs = options.maxWaitMs ?? 1000
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => delay(ms))
  // Start times of granted or reserved calls, ascending; may lie in the future.
  const slots: number[] = []
  return {
    async acquire() {
      const t = now()
      while (slots.length > 0 && (slots[0] ?? 0) <= t - 1000) slots.shift()
      const blocking = slots.length >= perSecond ? slots[slots.length - perSecond] : undefined
      const start = blocking === undefined ? t : Math.max(t, blocking + 1000)
      const wait = start - t
      if (wait > maxWaitMs) {
        throw new UpstreamUnavailable(wait / 1000, {
          reason: `sts.maxCallsPerSecond (${perSecond}) reached`,
        })
      }
      slots.push(start)
      if (wait > 0) await sleep(wait)
    },
  }
}
