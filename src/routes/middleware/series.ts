// Runs middlewares one after another as one: the router walks one layer instead of one per middleware.
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/**
 * One middleware that runs `handlers` in order with express's semantics: each calls its `next` to go on,
 * `next(err)` skips the rest and hands the error on, and an answer without `next` ends the request. A
 * synchronous throw or a rejected promise becomes `next(err)`, as the router does for a layer. Every
 * app-level layer costs the router a path match and a `next` hop per request; the request prelude runs
 * through this instead.
 */
export function series(...handlers: readonly RequestHandler[]): RequestHandler {
  return function seriesMiddleware(req: Request, res: Response, next: NextFunction): void {
    let index = 0
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null && err !== false) {
        next(err)
        return
      }
      const handler = handlers[index++]
      if (handler === undefined) {
        next()
        return
      }
      try {
        const out: unknown = handler(req, res, step)
        if (out instanceof Promise) out.catch((e: unknown) => next(e ?? new Error('Rejected promise')))
      } catch (e) {
        next(e)
      }
    }
    step()
  }
}
