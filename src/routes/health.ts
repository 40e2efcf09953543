// GET /healthz (the process answers) and GET /readyz (issuer keys fetched, STS identity resolvable).
import { type Request, type Response, Router } from 'express'
import { toErrorResponse, UpstreamUnavailable } from '../errors.ts'

export interface ReadinessCheck {
  name: string
  check(): Promise<{ ready: boolean; detail?: string }>
}

export function healthRoutes(
  checks: readonly ReadinessCheck[],
  info: () => Record<string, unknown> = () => ({}),
): Router {
  const router = Router({ caseSensitive: true, strict: true })
  router.get('/healthz', (_req: Request, res: Response) => {
    res.status(200).json({ status: 'ok' })
  })
  router.get('/readyz', async (_req: Request, res: Response) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) }
        } catch {
          return { name: c.name, ready: false, detail: 'check failed' }
        }
      }),
    )
    const failing = results.filter((r) => !r.ready)
    if (failing.length === 0) {
      res
        .status(200)
        .json({ status: 'ready', checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])), ...info() })
      return
    }
    const description = `not ready: ${failing.map((r) => (r.detail ? `${r.name} (${r.detail})` : r.name)).join(', ')}`
    const out = toErrorResponse(
      new UpstreamUnavailable(5, { reason: description }),
      res.locals['requestId'] as string,
    )
    res
      .status(out.status)
      .set(out.headers)
      .json({ ...out.body, error_description: description })
  })
  return router
}
