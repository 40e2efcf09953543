// series(): several middlewares as one router layer, with express's next/err/throw semantics.
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { series } from '../../../src/routes/middleware/series.ts'

const req = {} as Request
const res = {} as Response

/**
 * Runs `handler` and resolves with what it handed to the outer next (undefined: plain next()), or with
 * `called: false` when next has not been called within `quietMs` (short only where no call is expected:
 * a loaded runner may delay a call that does come).
 */
function run(handler: RequestHandler, quietMs = 5000): Promise<{ called: boolean; err: unknown }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ called: false, err: undefined }), quietMs)
    handler(req, res, ((err?: unknown) => {
      clearTimeout(timer)
      resolve({ called: true, err })
    }) as NextFunction)
  })
}

describe('series', () => {
  it('when every middleware calls next, then they run in order and the outer next is called once', async () => {
    const order: string[] = []
    const mw =
      (name: string): RequestHandler =>
      (_q, _s, next) => {
        order.push(name)
        next()
      }
    const out = await run(series(mw('a'), mw('b'), mw('c')))
    expect(order).toEqual(['a', 'b', 'c'])
    expect(out).toEqual({ called: true, err: undefined })
  })

  it('when one middleware calls next asynchronously, then the next one still runs after it', async () => {
    const order: string[] = []
    const out = await run(
      series(
        (_q, _s, next) => {
          setImmediate(() => {
            order.push('later')
            next()
          })
        },
        (_q, _s, next) => {
          order.push('after')
          next()
        },
      ),
    )
    expect(order).toEqual(['later', 'after'])
    expect(out.called).toBe(true)
  })

  it('when a middleware calls next(err), then the rest is skipped and the error goes to the outer next', async () => {
    const boom = new Error('boom')
    let ranAfter = false
    const out = await run(
      series(
        (_q, _s, next) => next(boom),
        (_q, _s, next) => {
          ranAfter = true
          next()
        },
      ),
    )
    expect(out.err).toBe(boom)
    expect(ranAfter).toBe(false)
  })

  it('when a middleware throws, even after an asynchronous next, then the error goes to the outer next', async () => {
    const boom = new Error('thrown')
    const out = await run(
      series(
        (_q, _s, next) => {
          void Promise.resolve().then(() => next())
        },
        () => {
          throw boom
        },
      ),
    )
    expect(out.err).toBe(boom)
  })

  it('when a middleware returns a rejected promise, then the rejection goes to the outer next', async () => {
    const boom = new Error('rejected')
    const out = await run(series(async () => Promise.reject(boom)))
    expect(out.err).toBe(boom)
  })

  it('when a middleware answers without calling next, then the outer next is never called', async () => {
    const out = await run(
      series(() => undefined),
      50,
    )
    expect(out.called).toBe(false)
  })
})
