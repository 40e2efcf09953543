// helmet's response headers, worked out once at start and set in one pass per request.
import type { NextFunction, Request, Response } from 'express'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers `helmet(options)` sets, found by running it once against a recording response. helmet
 * stays the source of truth for names and values; per request this is one loop instead of its chain of
 * a dozen middlewares. Throws TypeError for options whose headers depend on the request (a CSP directive
 * given as a function, e.g. a nonce), which cannot be precomputed.
 */
export function helmetHeaders(options: HelmetOptions): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>()
  let dynamic = false
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name, String(value))
    },
    removeHeader(name: string) {
      headers.delete(name)
    },
  }
  const request = new Proxy(
    {},
    {
      get() {
        dynamic = true
        return undefined
      },
    },
  )
  let failed: unknown
  helmet(options)(request as never, recorder as never, (err?: unknown) => {
    failed = err
  })
  if (dynamic || failed !== undefined)
    throw new TypeError('helmet options that depend on the request cannot be precomputed')
  return [...headers]
}

/** Sets helmet's headers for `options` (see helmetHeaders) on every response. */
export function securityHeaders(options: HelmetOptions) {
  const headers = helmetHeaders(options)
  return function securityHeadersMiddleware(_req: Request, res: Response, next: NextFunction): void {
    for (const [name, value] of headers) res.setHeader(name, value)
    next()
  }
}
