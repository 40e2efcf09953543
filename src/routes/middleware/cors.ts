// CORS for exact configured origins only: no reflection, `null` refused, never `*`, never credentials.
import type { NextFunction, Request, Response } from 'express'

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id'
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, RateLimit, RateLimit-Policy'

export function cors(origins: readonly string[]) {
  const allowed = new Set(origins)
  return function corsMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.vary('Origin')
    const origin = req.headers.origin
    if (typeof origin !== 'string' || !allowed.has(origin)) {
      next()
      return
    }
    res.setHeader('Access-Control-Allow-Origin', origin)
    if (req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST')
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      res.setHeader('Access-Control-Max-Age', '600')
      res.status(204).end()
      return
    }
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS)
    next()
  }
}
