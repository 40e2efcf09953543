// GET /openapi.yaml: the API reference, read once at start; `servers` never comes from request headers.
import { readFileSync } from 'node:fs'
import { type Request, type Response, Router } from 'express'
import { PACKAGE_ROOT } from '../package-root.ts'

export const OPENAPI_PATH = new URL('openapi.yaml', PACKAGE_ROOT)

export function openapiRoutes(): Router {
  const text = readFileSync(OPENAPI_PATH, 'utf8')
  const router = Router({ caseSensitive: true, strict: true })
  router.get('/openapi.yaml', (_req: Request, res: Response) => {
    res.setHeader('Content-Type', 'application/yaml; charset=utf-8')
    res.setHeader('Cache-Control', 'no-store')
    res.status(200).send(text)
  })
  return router
}
