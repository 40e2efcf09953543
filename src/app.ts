// Composition root: createApp(deps) wires middleware and routes. It builds; it never listens.
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import type { Config } from './config/index.ts'
import { MethodNotAllowed, NotFound, toErrorResponse } from './errors.ts'
import type { Logger } from './logger.ts'
import { requestId } from './routes/middleware/request-id.ts'

export interface AppDeps {
  config: Config
  logger: Logger
}

/** Routes and the methods they answer; anything else on a known path is 405 with `Allow`. */
const KNOWN_ROUTES: Record<string, readonly string[]> = {
  '/healthz': ['GET'],
}

export function createApp(deps: AppDeps): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.set('case sensitive routing', true)
  app.set('strict routing', true)
  app.set('trust proxy', deps.config.server.trustProxyHops)
  app.use(requestId)

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })

  app.use((req: Request, _res: Response, next: NextFunction) => {
    const allow = Object.hasOwn(KNOWN_ROUTES, req.path) ? KNOWN_ROUTES[req.path] : undefined
    next(allow ? new MethodNotAllowed(allow) : new NotFound())
  })

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const id = res.locals['requestId'] as string
    const out = toErrorResponse(err, id)
    if (out.status >= 500)
      deps.logger.error(
        { err: out.error.cause ?? out.error, request_id: id, path: req.path },
        'request failed',
      )
    res.status(out.status).set(out.headers).json(out.body)
  })
  return app
}
