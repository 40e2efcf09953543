// Composition root: createApp(deps) wires middleware and routes. It builds; it never listens.
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import type { Store } from 'express-rate-limit'
import type { TokenVerifier } from './auth/index.ts'
import type { Config } from './config/index.ts'
import {
  type ErrorResponse,
  MethodNotAllowed,
  NotFound,
  toErrorResponse,
  UpstreamUnavailable,
} from './errors.ts'
import { formatAppServerError, serviceLinks } from './formats/index.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { consoleRoutes, consoleSettings } from './routes/console.ts'
import { queryFormat, searchOf } from './routes/credential-request.ts'
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
import { series } from './routes/middleware/series.ts'
import { openapiRoutes } from './routes/openapi.ts'
import { safeErrorFields } from './safe-error.ts'
import type { Audit } from './services/audit.ts'
import type { ExplainDenial } from './services/explain-denial.ts'
import type { IssueCredentials } from './services/issue-credentials.ts'
import type { ListGrants } from './services/list-grants.ts'
import type { Simulate } from './services/simulate.ts'

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
  /** The bearer token `/metrics` requires (`server.metrics.bearerToken`, or the file's content). */
  metricsToken?: string | undefined
  /** Extra fields of a ready /readyz body (the config generation and sha256). */
  readyInfo?: () => Record<string, unknown>
  limiterStores?: { perIp?: Store | undefined; perSubject?: Store | undefined }
  lifecycle?: Lifecycle
  /** Milliseconds since the epoch; the /readyz cache's clock (tests inject one). */
  now?: () => number
  /** Set by `sts-vend dev` only: the dev issuer's URL, whose dev-user picker the console then offers. */
  devIssuer?: string | undefined
}

type Routes = ReadonlyMap<string, readonly string[]>

const CREDENTIAL_ROUTES = new Set(['/v1/credentials', '/v1/simulate'])
/** The probes answer before the per-IP limit (design §6.1): an orchestrator must always reach them. */
const PROBES = new Set(['/healthz', '/readyz'])

/**
 * Whether the main port serves `/metrics` (design §14): not when a separate listener does, behind the
 * bearer token when one is set, openly only with `server.metrics.unauthenticated` (dev mode).
 */
export function metricsOnMainPort(config: Config, token: string | undefined): boolean {
  const m = config.server.metrics
  return m.listen === undefined && (token !== undefined || m.unauthenticated)
}
/** Routes whose 401/403/400/429 write a credentials.denied audit line. */
const AUDITED_ROUTES = new Set([...CREDENTIAL_ROUTES, '/v1/grants', '/v1/explain-denial'])

/** The routes and their methods; anything else on a known path is 405 with `Allow`, unknown paths 404. */
function knownRoutes(deps: AppDeps, consolePaths: readonly string[]): Routes {
  const routes = new Map<string, readonly string[]>([
    ['/healthz', ['GET', 'HEAD']],
    ['/readyz', ['GET', 'HEAD']],
    ['/openapi.yaml', ['GET']],
    ['/v1/credentials', ['GET', 'POST']],
    ['/v1/grants', ['GET']],
    ['/v1/explain-denial', ['POST']],
  ])
  if (metricsOnMainPort(deps.config, deps.metricsToken)) routes.set('/metrics', ['GET'])
  if (deps.config.server.simulate) routes.set('/v1/simulate', ['POST'])
  for (const path of consolePaths) routes.set(path, ['GET', 'HEAD'])
  return routes
}

function baseSettings(app: Express, trustProxyHops: number): void {
  app.disable('x-powered-by')
  app.set('etag', false)
  app.set('case sensitive routing', true)
  app.set('strict routing', true)
  app.set('query parser', false)
  app.set('trust proxy', trustProxyHops)
}

/**
 * Names the request's route once, before any router rewrites `req.url` (a router mounted at /v1 sees
 * `/credentials`), and counts the request under that name when the answer is sent.
 */
function routeAndMetrics(routes: Routes, metrics: Metrics) {
  return function routeAndMetricsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint()
    const route = routes.has(req.path) ? req.path : 'other'
    res.locals.route = route
    res.on('finish', () => {
      metrics.request(route, req.method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9)
    })
    next()
  }
}

/** no-store on everything but the OpenAPI document; notes whether errors take the AppServer shape. */
function responseDefaults(req: Request, res: Response, next: NextFunction): void {
  if (req.path !== '/openapi.yaml') {
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Pragma', 'no-cache')
  }
  const search = searchOf(req)
  if (search !== '' && queryFormat(search) === 'appserver') res.locals.appserver = true
  next()
}

function drainGate(lifecycle: Lifecycle | undefined) {
  return function drainGateMiddleware(_req: Request, res: Response, next: NextFunction): void {
    if (!lifecycle?.draining) {
      next()
      return
    }
    res.setHeader('Connection', 'close')
    next(new UpstreamUnavailable(1, { reason: 'draining' }))
  }
}

/** 404 for unknown paths, 405 with `Allow` for a known path's other methods. */
function routeGate(routes: Routes) {
  return function routeGateMiddleware(req: Request, _res: Response, next: NextFunction): void {
    const allow = routes.get(req.path)
    if (!allow) next(new NotFound())
    else if (!allow.includes(req.method)) next(new MethodNotAllowed(allow.filter((m) => m !== 'HEAD')))
    else next()
  }
}

/** The probes, unlimited; every other path counts against the per-IP limit before 404/405 (design §6.1). */
function probesThenPerIpLimit(deps: AppDeps, routes: Routes) {
  const probes = express.Router({ caseSensitive: true, strict: true })
  probes.use(
    routeGate(routes),
    healthRoutes(deps.readiness, {
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.readyInfo ? { info: deps.readyInfo } : {}),
    }),
  )
  const limit = perIpLimit(deps.config.limits, deps.limiterStores?.perIp)
  return function probesThenPerIpLimitMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (PROBES.has(req.path)) probes(req, res, next)
    else limit(req, res, next)
  }
}

function mountRoutes(app: Express, deps: AppDeps, console: ReturnType<typeof consoleRoutes> | null): void {
  const { config } = deps
  const readBody = rawJsonBody(config.server.bodyLimitBytes)
  const perSubject = perSubjectLimit(config.limits, deps.limiterStores?.perSubject)
  // The credential routes first: the hot path meets no other router on its way.
  app.use(
    credentialRoutes({
      verifier: deps.verifier,
      issueCredentials: deps.issueCredentials,
      simulate: config.server.simulate ? deps.simulate : null,
      readBody,
      perSubject,
      links: serviceLinks(config.server.publicUrl),
    }),
  )
  if (metricsOnMainPort(config, deps.metricsToken)) app.use(metricsRoutes(deps.metrics, deps.metricsToken))
  app.use(openapiRoutes())
  if (console) app.use(console.router)
  const before = [readBody, authenticate(deps.verifier), perSubject]
  app.use('/v1', grantRoutes({ listGrants: deps.listGrants, before }))
  app.use('/v1', explainDenialRoutes({ explainDenial: deps.explainDenial, audit: deps.audit, before }))
}

export function createApp(deps: AppDeps): Express {
  const settings = consoleSettings(deps.config, deps.devIssuer)
  const web = settings ? consoleRoutes(settings) : null
  const routes = knownRoutes(deps, web?.paths ?? [])
  const app = express()
  baseSettings(app, deps.config.server.trustProxyHops)
  // The prelude every request goes through, in this order, as one router layer (series.ts).
  app.use(
    series(
      requestId,
      routeAndMetrics(routes, deps.metrics),
      securityHeaders({
        contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
        referrerPolicy: { policy: 'no-referrer' },
      }),
      responseDefaults,
      cors(deps.config.server.cors.origins),
      drainGate(deps.lifecycle),
      probesThenPerIpLimit(deps, routes),
      routeGate(routes),
    ),
  )
  mountRoutes(app, deps, web)
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new NotFound()))
  app.use(errorHandler(deps))
  return app
}

/** The app of the separate metrics listener (`server.metrics.listen`): GET /metrics and nothing else. */
export function createMetricsApp(deps: Pick<AppDeps, 'metrics' | 'metricsToken' | 'logger'>): Express {
  const routes: Routes = new Map([['/metrics', ['GET']]])
  const app = express()
  baseSettings(app, 0)
  app.use(requestId)
  app.use(responseDefaults)
  app.use(routeGate(routes))
  app.use(metricsRoutes(deps.metrics, deps.metricsToken))
  app.use(errorHandler({ logger: deps.logger, audit: null }))
  return app
}

function logServerFailure(logger: Logger, out: ErrorResponse, err: unknown, requestId: string): void {
  if (out.status < 500 || out.error.reason === 'draining') return
  logger.error(
    {
      event: 'request.failed',
      request_id: requestId,
      code: out.error.code,
      reason: out.error.reason,
      cause: safeErrorFields(out.error.cause ?? err, { stack: out.error.code === 'server_error' }),
    },
    'request failed',
  )
}

/** Every error becomes the §7 body (or the AppServer shape); credential routes write a denial audit line. */
function errorHandler(deps: { logger: Logger; audit: Audit | null }) {
  return function errorHandlerMiddleware(err: unknown, req: Request, res: Response, _next: NextFunction) {
    const id = res.locals.requestId
    const out = toErrorResponse(err, id)
    const credentialRoute = CREDENTIAL_ROUTES.has(res.locals.route)
    const audited = AUDITED_ROUTES.has(res.locals.route)
    if (audited && out.error.code !== 'not_found' && out.error.code !== 'method_not_allowed') {
      deps.audit?.denied(out.error, {
        requestId: id,
        clientIp: clientIpOf(req),
        caller: res.locals.caller,
        route: res.locals.route,
      })
    }
    logServerFailure(deps.logger, out, err, id)
    if (res.headersSent) return
    res.status(out.status).set(out.headers)
    if (res.locals.appserver === true && credentialRoute) {
      res.json(formatAppServerError(out.status, out.body.error, out.body.error_description))
    } else {
      res.json(out.body)
    }
  }
}
