import { describe, expect, it } from 'vitest'
import { UpstreamUnavailable } from '../../../src/errors.ts'
import { createRateCap } from '../../../src/sts/rate-cap.ts'

function setup(perSecond: number, maxWaitMs?: number) {
  let t = 0
  const waits: number[] = []
  const cap = createRateCap({
    perSecond,
    ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
    now: () => t,
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
  return { cap, waits, advance: (ms: number) => (t += ms) }
}

describe('rate cap', () => {
  it('when calls stay under the cap, then none waits', async () => {
    const { cap, waits } = setup(3)
    for (let i = 0; i < 3; i++) await cap.acquire()
    expect(waits).toEqual([])
  })

  it('when a call is over the cap, then it waits for the oldest slot to leave the window', async () => {
    const { cap, waits, advance } = setup(2)
    await cap.acquire()
    advance(300)
    await cap.acquire()
    advance(100)
    await cap.acquire()
    expect(waits).toEqual([600])
  })

  it('when calls queue up, then they are granted in order, each within the window', async () => {
    const { cap, waits } = setup(2)
    for (let i = 0; i < 4; i++) await cap.acquire()
    expect(waits).toEqual([1000, 1000])
  })

  it('when the wait would exceed maxWaitMs, then the call gets upstream_unavailable with Retry-After', async () => {
    const { cap } = setup(1)
    await cap.acquire()
    await cap.acquire()
    const refused = await cap.acquire().catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(UpstreamUnavailable)
    expect(refused).toMatchObject({ code: 'upstream_unavailable', retryAfterSeconds: 2 })
  })

  it('when a second has passed, then the window is free again', async () => {
    const { cap, waits, advance } = setup(1)
    await cap.acquire()
    advance(1000)
    await cap.acquire()
    expect(waits).toEqual([])
  })
})
