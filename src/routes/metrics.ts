// GET /metrics: Prometheus text from this app's registry, behind a bearer token when one is configured.
import { createHash, timingSafeEqual } from 'node:crypto'
import { type NextFunction, type Request, type Response, Router } from 'express'
import { InvalidToken } from '../errors.ts'
import type { Metrics } from '../metrics.ts'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Passes a request whose single `Authorization` header is `Bearer <token>` (scheme case-insensitive);
 * anything else is 401 invalid_token. Compared as SHA-256 digests in constant time.
 */
export function metricsBearer(token: string) {
  const expected = digest(token)
  return function metricsBearerMiddleware(req: Request, _res: Response, next: NextFunction): void {
    const values = req.headersDistinct['authorization'] ?? []
    const value = values.length === 1 ? (values[0] ?? '') : ''
    const match = /^bearer (.+)$/i.exec(value)
    if (!match) {
      next(new InvalidToken({ presented: values.length > 0, reason: 'metrics: no bearer token' }))
      return
    }
    if (!timingSafeEqual(digest(match[1] ?? ''), expected)) {
      next(new InvalidToken({ presented: true, reason: 'metrics: wrong bearer token' }))
      return
    }
    next()
  }
}

/** GET /metrics; with `token`, only for a caller presenting it. */
export function metricsRoutes(metrics: Metrics, token?: string): Router {
  const router = Router({ caseSensitive: true, strict: true })
  const handlers = token === undefined ? [] : [metricsBearer(token)]
  router.get('/metrics', ...handlers, async (_req: Request, res: Response) => {
    res.setHeader('Content-Type', metrics.registry.contentType)
    res.status(200).send(await metrics.registry.metrics())
  })
  return router
}
