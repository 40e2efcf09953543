// GET /metrics: Prometheus text from this app's registry.
import { type Request, type Response, Router } from 'express'
import type { Metrics } from '../metrics.ts'

export function metricsRoutes(metrics: Metrics): Router {
  const router = Router({ caseSensitive: true, strict: true })
  router.get('/metrics', async (_req: Request, res: Response) => {
    res.setHeader('Content-Type', metrics.registry.contentType)
    res.status(200).send(await metrics.registry.metrics())
  })
  return router
}
