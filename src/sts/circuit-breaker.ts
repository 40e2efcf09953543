// A circuit breaker for STS: opens after N consecutive unavailable failures, fails fast, probes once, closes on success.

export type BreakerState = 'closed' | 'open' | 'half_open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number
  /** How long the circuit stays open before one probe is let through. Default 10000 ms. */
  openMs?: number
  /** Milliseconds clock. Default Date.now. */
  now?: () => number
  onStateChange?: (state: BreakerState) => void
}

/** One admitted call. Report exactly one outcome; `cancel` when the call was never made. */
export interface BreakerPermit {
  /** STS answered (any answer but throttling or 5xx): the circuit closes, the failure count resets. */
  success(): void
  /** STS was unavailable (throttled, 5xx, network, timeout). */
  failure(): void
  /** The call was not made after all (e.g. the rate cap refused it): frees a half-open probe slot. */
  cancel(): void
}

export type BreakerDecision = { ok: true; permit: BreakerPermit } | { ok: false; retryAfterMs: number }

export interface CircuitBreaker {
  /** Admits a call, or refuses it while open (retryAfterMs = open time left) or while a probe is out. */
  acquire(): BreakerDecision
  state(): BreakerState
}

/** Creates a closed circuit breaker. Throws TypeError on a non-positive threshold or open time. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5
  const openMs = options.openMs ?? 10_000
  const now = options.now ?? Date.now
  if (!(Number.isInteger(threshold) && threshold >= 1)) throw new TypeError('failureThreshold must be ≥ 1')
  if (!(openMs > 0)) throw new TypeError('openMs must be > 0')

  let state: BreakerState = 'closed'
  let failures = 0
  let openedAt = 0
  let probeOut = false
  // Each opening starts a new generation: late outcomes of calls admitted before it are ignored.
  let generation = 0

  const moveTo = (next: BreakerState) => {
    if (next === state) return
    state = next
    if (next === 'open') {
      openedAt = now()
      generation += 1
    }
    options.onStateChange?.(next)
  }

  const permit = (probe: boolean): BreakerPermit => {
    const admittedIn = generation
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      if (probe) probeOut = false
      if (admittedIn === generation) fn()
    }
    return {
      success: () =>
        settle(() => {
          failures = 0
          moveTo('closed')
        }),
      failure: () =>
        settle(() => {
          failures += 1
          if (probe || failures >= threshold) moveTo('open')
        }),
      cancel: () => settle(() => {}),
    }
  }

  return {
    acquire() {
      if (state === 'open') {
        const left = openedAt + openMs - now()
        if (left > 0) return { ok: false, retryAfterMs: left }
        moveTo('half_open')
      }
      if (state === 'half_open') {
        if (probeOut) return { ok: false, retryAfterMs: 1000 }
        probeOut = true
        return { ok: true, permit: permit(true) }
      }
      return { ok: true, permit: permit(false) }
    },
    state: () => state,
  }
}
