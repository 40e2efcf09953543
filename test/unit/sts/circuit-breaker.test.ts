import { describe, expect, it } from 'vitest'
import { type BreakerState, createCircuitBreaker } from '../../../src/sts/circuit-breaker.ts'

function setup(failureThreshold = 3, openMs = 1000) {
  let t = 0
  const states: BreakerState[] = []
  const breaker = createCircuitBreaker({
    failureThreshold,
    openMs,
    now: () => t,
    onStateChange: (s) => states.push(s),
  })
  const permit = () => {
    const d = breaker.acquire()
    if (!d.ok) throw new Error(`refused, ${d.retryAfterMs} ms left`)
    return d.permit
  }
  return { breaker, states, permit, advance: (ms: number) => (t += ms) }
}

describe('circuit breaker', () => {
  it('when failures reach the threshold, then it opens and refuses with the open time left', () => {
    const { breaker, states, permit, advance } = setup()
    for (let i = 0; i < 3; i++) permit().failure()
    expect(breaker.state()).toBe('open')
    advance(400)
    expect(breaker.acquire()).toEqual({ ok: false, retryAfterMs: 600 })
    expect(states).toEqual(['open'])
  })

  it('when a success comes between failures, then the count restarts', () => {
    const { breaker, permit } = setup()
    permit().failure()
    permit().failure()
    permit().success()
    permit().failure()
    permit().failure()
    expect(breaker.state()).toBe('closed')
  })

  it('when the open time has passed, then exactly one probe goes through and others are refused', () => {
    const { breaker, permit, advance } = setup()
    for (let i = 0; i < 3; i++) permit().failure()
    advance(1000)
    const probe = permit()
    expect(breaker.state()).toBe('half_open')
    expect(breaker.acquire().ok).toBe(false)
    probe.success()
    expect(breaker.state()).toBe('closed')
    expect(breaker.acquire().ok).toBe(true)
  })

  it('when the probe fails, then it opens again for a full open time', () => {
    const { breaker, states, permit, advance } = setup()
    for (let i = 0; i < 3; i++) permit().failure()
    advance(1000)
    permit().failure()
    expect(breaker.state()).toBe('open')
    expect(breaker.acquire()).toEqual({ ok: false, retryAfterMs: 1000 })
    expect(states).toEqual(['open', 'half_open', 'open'])
  })

  it('when the probe is cancelled, then the next call may probe', () => {
    const { breaker, permit, advance } = setup()
    for (let i = 0; i < 3; i++) permit().failure()
    advance(1000)
    permit().cancel()
    expect(breaker.acquire().ok).toBe(true)
  })

  it('when a call admitted before the opening succeeds late, then it does not close the circuit', () => {
    const { breaker, permit } = setup()
    const early = permit()
    for (let i = 0; i < 3; i++) permit().failure()
    early.success()
    expect(breaker.state()).toBe('open')
  })

  it('when a permit reports twice, then only the first outcome counts', () => {
    const { breaker, permit } = setup(2)
    const p = permit()
    p.failure()
    p.failure()
    expect(breaker.state()).toBe('closed')
  })

  it.each([[{ failureThreshold: 0 }], [{ failureThreshold: 1.5 }], [{ openMs: 0 }]])(
    'when built with %j, then it throws TypeError',
    (options) => {
      expect(() => createCircuitBreaker(options)).toThrow(TypeError)
    },
  )
})
