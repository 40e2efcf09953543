// Composition root: createApp(deps) wires middleware and routes. It builds; it never listens.
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import type { Store } from 'express-rate-limit'
import type { TokenVerifier } from './auth/index.ts'
import type { Config } from './config/index.ts'
import { MethodNotAllowed, NotFound, toErrorResponse, UpstreamUnavailable } from './errors.ts'
import { formatAppServerError, serviceLinks } from './formats/index.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { consoleRoutes, consoleSettings } from './routes/console.ts'
import { queryFormat } from './routes/credential-request.ts'
import { authenticate, credentialRoutes } from './routes/credentials.ts'
import { explainDenialRoutes } from './routes/explain-denial.ts'
import { grantRoutes } from './routes/grants.ts'
import { healthRoutes, type ReadinessCheck } from './routes/health.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { rawJsonBody } from './routes/middleware/body.ts'
import { clientIpOf } from './routes/middleware/client-ip.ts'
import { cors } from './routes/middleware/cors.ts'
import { perIpLimit, perSubjectLimit } from './routes/middleware/rate-limit.ts'
import { requestId } from './routes/middleware/request-id.ts'
import { securityHeaders } from './routes/middleware/security-headers.ts'
import { openapiRoutes } from './routes/openapi.ts'
import { safeErrorFields } from './safe-error.ts'
import type { Audit } from './services/audit.ts'
import type { ExplainDenial } from './services/explain-denial.ts'
import type { IssueCredentials } from './services/issue-credentials.ts'
import type { ListGrants } from './services/list-grants.ts'
import type { Simulate } from './services/simulate.ts'
import type { Caller } from './types.ts'

export interface Lifecycle {
  /** Set on SIGTERM: new requests get 503 while in-flight ones finish. */
  draining: boolean
}

export interface AppDeps {
  config: Config
  logger: Logger
  verifier: TokenVerifier
  issueCredentials: IssueCredentials
  simulate: Simulate | null
  /** GET /v1/grants and POST /v1/explain-denial (issue 20). */
  listGrants: ListGrants
  explainDenial: ExplainDenial
  audit: Audit
  metrics: Metrics
  readiness: readonly ReadinessCheck[]
  limiterStores?: { perIp?: Store | undefined; perSubject?: Store | undefined }
  lifecycle?: Lifecycle
  /** Set by `sts-vend dev` only: the dev issuer's URL, whose dev-user picker the console then offers. */
  devIssuer?: string | undefined
}

const CREDENTIAL_ROUTES = new Set(['/v1/credentials', '/v1/simulate'])
/** Routes whose 401/403/400/429 write a credentials.denied audit line. */
const AUDITED_ROUTES = new Set([...CREDENTIAL_ROUTES, '/v1/grants', '/v1/explain-denial'])

/** The routes and their methods; anything else on a known path is 405 with `Allow`, unknown paths 404. */
function knownRoutes(config: Config, consolePaths: readonly string[]): Map<string, readonly string[]> {
  const routes = new Map<string, readonly string[]>([
    ['/healthz', ['GET', 'HEAD']],
    ['/readyz', ['GET', 'HEAD']],
    ['/metrics', ['GET']],
    ['/openapi.yaml', ['GET']],
    ['/v1/credentials', ['GET', 'POST']],
    ['/v1/grants', ['GET']],
    ['/v1/explain-denial', ['POST']],
  ])
  if (config.server.simulate) routes.set('/v1/simulate', ['POST'])
  for (const path of consolePaths) routes.set(path, ['GET', 'HEAD'])
  return routes
}

export function createApp(deps: AppDeps): Express {
  const { config, logger, metrics, audit } = deps
  const settings = consoleSettings(config, deps.devIssuer)
  const web = settings ? consoleRoutes(settings) : null
  const routes = knownRoutes(config, web?.paths ?? [])
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.set('case sensitive routing', true)
  app.set('strict routing', true)
  app.set('query parser', false)
  app.set('trust proxy', config.server.trustProxyHops)

  app.use(requestId)
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint()
    res.on('finish', () => {
      const route = routes.has(req.path) ? req.path : 'other'
      metrics.request(route, req.method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9)
    })
    next()
  })
  app.use(
    securityHeaders({
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  )
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/openapi.yaml') {
      res.setHeader('Cache-Control', 'no-store')
      res.setHeader('Pragma', 'no-cache')
    }
    const q = req.originalUrl.indexOf('?')
    if (q !== -1 && queryFormat(req.originalUrl.slice(q + 1)) === 'appserver') res.locals['appserver'] = true
    next()
  })
  app.use(cors(config.server.cors.origins))
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (deps.lifecycle?.draining) {
      res.setHeader('Connection', 'close')
      next(new UpstreamUnavailable(1, { reason: 'draining' }))
      return
    }
    next()
  })
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const allow = routes.get(req.path)
    if (!allow) next(new NotFound())
    else if (!allow.includes(req.method)) next(new MethodNotAllowed(allow.filter((m) => m !== 'HEAD')))
    else next()
  })

  app.use(healthRoutes(deps.readiness))
  app.use(perIpLimit(config.limits, deps.limiterStores?.perIp))
  app.use(metricsRoutes(metrics))
  app.use(openapiRoutes())
  if (web) app.use(web.router)
  const readBody = rawJsonBody(config.server.bodyLimitBytes)
  const perSubject = perSubjectLimit(config.limits, deps.limiterStores?.perSubject)
  app.use(
    '/v1',
    credentialRoutes({
      verifier: deps.verifier,
      issueCredentials: deps.issueCredentials,
      simulate: config.server.simulate ? deps.simulate : null,
      readBody,
      perSubject,
      links: serviceLinks(config.server.publicUrl),
    }),
  )
  const before = [readBody, authenticate(deps.verifier), perSubject]
  app.use('/v1', grantRoutes({ listGrants: deps.listGrants, before }))
  app.use('/v1', explainDenialRoutes({ explainDenial: deps.explainDenial, audit, before }))

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new NotFound()))

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const id = res.locals['requestId'] as string
    const out = toErrorResponse(err, id)
    if (
      AUDITED_ROUTES.has(req.path) &&
      out.error.code !== 'not_found' &&
      out.error.code !== 'method_not_allowed'
    ) {
      audit.denied(out.error, {
        requestId: id,
        clientIp: clientIpOf(req),
        caller: res.locals['caller'] as Caller | undefined,
        route: req.path,
      })
    }
    if (out.status >= 500 && out.error.reason !== 'draining') {
      logger.error(
        {
          event: 'request.failed',
          request_id: id,
          code: out.error.code,
          reason: out.error.reason,
          cause: safeErrorFields(out.error.cause ?? err, { stack: out.error.code === 'server_error' }),
        },
        'request failed',
      )
    }
    if (res.headersSent) return
    res.status(out.status).set(out.headers)
    if (res.locals['appserver'] === true && CREDENTIAL_ROUTES.has(req.path)) {
      res.json(formatAppServerError(out.status, out.body.error, out.body.error_description))
    } else {
      res.json(out.body)
    }
  })
  return app
}
