// GET /healthz (the process answers) and GET /readyz (issuer keys fetched, STS identity resolvable).
import { type Request, type Response, Router } from 'express'
import { toErrorResponse, UpstreamUnavailable } from '../errors.ts'

export interface ReadinessCheck {
  name: string
  check(): Promise<{ ready: boolean; detail?: string }>
}

interface CheckResult {
  name: string
  ready: boolean
  detail?: string
}

/** How long one readiness answer is reused: /readyz runs its checks (JWKS, DNS, identity) at most this often. */
export const READINESS_TTL_MS = 5000

export interface HealthOptions {
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number
  ttlMs?: number
  /** Extra fields of a ready /readyz body (the config generation and sha256). */
  info?: () => Record<string, unknown>
}

async function runChecks(checks: readonly ReadinessCheck[]): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (c) => {
      try {
        return { name: c.name, ...(await c.check()) }
      } catch {
        return { name: c.name, ready: false, detail: 'check failed' }
      }
    }),
  )
}

/**
 * The checks' results, computed at most once per `ttlMs` however often /readyz is called; concurrent
 * callers share one run. Failures are cached too: a caller hammering a failing /readyz causes no I/O.
 */
export function cachedReadiness(
  checks: readonly ReadinessCheck[],
  options: HealthOptions = {},
): () => Promise<CheckResult[]> {
  const now = options.now ?? Date.now
  const ttlMs = options.ttlMs ?? READINESS_TTL_MS
  let cached: { at: number; results: Promise<CheckResult[]> } | undefined
  return () => {
    const t = now()
    if (cached && t >= cached.at && t - cached.at < ttlMs) return cached.results
    const results = runChecks(checks)
    cached = { at: t, results }
    return results
  }
}

export function healthRoutes(checks: readonly ReadinessCheck[], options: HealthOptions = {}): Router {
  const router = Router({ caseSensitive: true, strict: true })
  const readiness = cachedReadiness(checks, options)
  const info = options.info ?? (() => ({}))
  router.get('/healthz', (_req: Request, res: Response) => {
    res.status(200).json({ status: 'ok' })
  })
  router.get('/readyz', async (_req: Request, res: Response) => {
    const results = await readiness()
    const failing = results.filter((r) => !r.ready)
    if (failing.length === 0) {
      res
        .status(200)
        .json({ status: 'ready', checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])), ...info() })
      return
    }
    const description = `not ready: ${failing.map((r) => (r.detail ? `${r.name} (${r.detail})` : r.name)).join(', ')}`
    const out = toErrorResponse(new UpstreamUnavailable(5, { reason: description }), res.locals.requestId)
    res
      .status(out.status)
      .set(out.headers)
      .json({ ...out.body, error_description: description })
  })
  return router
}
