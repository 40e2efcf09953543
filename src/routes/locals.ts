// What the middlewares and routes leave for each other on `res.locals`, typed once for every file.
import type { Caller } from '../types.ts'

declare global {
  namespace Express {
    interface Locals {
      /** Set first (request-id.ts): the request's X-Request-Id. */
      requestId: string
      /** The known route the request path names (`/v1/credentials`), or `other`; the metrics label. */
      route: string
      /** True when the query asked for `format=appserver`: errors then take the AppServer shape. */
      appserver?: boolean
      /** The verified caller, after authentication. */
      caller?: Caller
      /** The raw request body (body.ts), when there was one. */
      rawBody?: Buffer | undefined
      /** Seconds until the caller's per-subject window resets, when it is over its limit. */
      subjectLimited?: number
    }
  }
}

/** The verified caller; only after `authenticate` has run (a missing one is a wiring bug: 500). */
export function callerOf(locals: Express.Locals): Caller {
  if (locals.caller === undefined) throw new Error('no caller on res.locals: authenticate did not run')
  return locals.caller
}
