import { describe, expect, it } from 'vitest'
import { createFaultController } from '../../../src/emulator/faults.ts'

/** A random source that returns the given draws in order. */
function draws(...values: number[]): () => number {
  let i = 0
  return () => values[i++] ?? 0.999
}

describe('sampled faults (rate)', () => {
  it.each([
    [0, 'throttle'],
    [0.0499, 'throttle'],
    [0.05, 'server_error'],
    [0.0599, 'server_error'],
    [0.0601, undefined],
    [0.99, undefined],
  ])(
    'when the draw is %s against throttle at 0.05 and server_error at 0.01, then %s applies',
    (draw, kind) => {
      const faults = createFaultController(
        [
          { kind: 'throttle', rate: 0.05, count: 1000 },
          { kind: 'server_error', rate: 0.01, count: 1000 },
        ],
        draws(draw),
      )
      expect(faults.take()?.kind).toBe(kind)
    },
  )

  it('when a fault is queued, then it applies before any sampled one, whatever the draw', () => {
    const faults = createFaultController([{ kind: 'throttle', rate: 1, count: 10 }], draws(0, 0))
    faults.add([{ kind: 'reset' }])
    expect([faults.take()?.kind, faults.take()?.kind]).toEqual(['reset', 'throttle'])
  })

  it('when a sampled fault has applied count times, then it applies no more', () => {
    const faults = createFaultController([{ kind: 'delay', delayMs: 1, rate: 1, count: 2 }], draws(0, 0, 0))
    expect([faults.take()?.kind, faults.take()?.kind, faults.take()]).toEqual(['delay', 'delay', undefined])
    expect(faults.pending()).toEqual([])
  })

  it('when sampled faults are pending, then they are listed after the queue with their rates', () => {
    const faults = createFaultController([{ kind: 'throttle', rate: 0.05, count: 7 }])
    faults.add([{ kind: 'reset', count: 2 }])
    expect(faults.pending().map((f) => [f.kind, f.count, f.rate])).toEqual([
      ['reset', 2, undefined],
      ['throttle', 7, 0.05],
    ])
  })

  it.each([0, -0.1, 1.5])('when rate is %s, then the fault is refused', (rate) => {
    expect(() => createFaultController([{ kind: 'throttle', rate }])).toThrow()
  })
})
