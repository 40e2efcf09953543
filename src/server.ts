// Process entry: config → adapters → createApp → listen; signals and exit codes.
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { type AppDeps, createApp, createMetricsApp, type Lifecycle } from './app.ts'
import type { TokenVerifier } from './auth/index.ts'
import { cacheBudgets } from './cache-budget.ts'
import { type Config, ConfigError, loadConfig, metricsToken, readConfigFile } from './config/index.ts'
import { DenyListError } from './denylist/index.ts'
import { AppError, isRootIdentityType, RootIdentityRefused } from './errors.ts'
import { createFleet, type Fleet } from './fleet/fleet.ts'
import { createFleetIssuedIndex } from './fleet/issued-index.ts'
import { createLimiterStores } from './limits/stores.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { listen, urlHost } from './net/listen.ts'
import { type LiveConfig, type LiveOptions, startLiveConfig } from './reload/index.ts'
import { logRuleWarnings, startReloader } from './reload/reloader.ts'
import { sha256Hex } from './reload/watch.ts'
import type { ReadinessCheck } from './routes/health.ts'
import { safeErrorFields } from './safe-error.ts'
import { createAudit } from './services/audit.ts'
import { createExplainDenial } from './services/explain-denial.ts'
import { createMemoryIssuedIndex, type IssuedIndex } from './services/issued-index.ts'
import { createAlibabaStsClient, createStsService } from './sts/index.ts'
import type { CallerIdentity, StsClient } from './types.ts'

export interface RunningServer {
  server: Server
  url: string
  /** The separate metrics listener's URL (`server.metrics.listen`), else undefined. */
  metricsUrl: string | undefined
  live: LiveConfig
  close(): Promise<void>
}

export interface StartOptions {
  config: Config
  logger?: Logger
  /** Replaces the Alibaba SDK client (tests). */
  stsClient?: StsClient
  /** `sts-vend dev` only: the dev issuer's URL; the web console then offers its dev-user picker. */
  devIssuer?: string
  /** The config file (deny-list path, reloads) and `--shadow` candidate (issue 19). */
  live?: LiveOptions
}

export interface Adapters {
  deps: AppDeps
  /** The STS client the app uses (the start-up identity check calls it). */
  stsClient: StsClient
  lifecycle: Lifecycle
  /** Runtime config, deny list and shadow: what a reload swaps. */
  live: LiveConfig
  close(): Promise<void>
}

export interface AdapterOptions extends LiveOptions {
  /** The clock of the credential cache, the issued-credential index and explain-denial (tests move it). */
  now?: () => Date
  /** Replaces the in-memory issued-credential index (fleet mode keeps it in Redis). */
  issuedIndex?: IssuedIndex
}

/** Builds every adapter the app needs from a validated config: the composition of design §2. */
/** The fleet's shared budget and sealed cache on Redis, when `fleet` is configured (issue 18). */
function createFleetIfConfigured(
  config: Config,
  logger: Logger,
  metrics: Metrics,
): Promise<Fleet | undefined> {
  if (!config.fleet) return Promise.resolve(undefined)
  return createFleet({
    fleet: config.fleet,
    maxCallsPerSecond: config.sts.maxCallsPerSecond,
    minRemainingSeconds: config.cache.minRemainingSeconds,
    logger,
    registry: metrics.registry,
  })
}

/** The issued-credential index: in the fleet's Redis in fleet mode (issue 20), else in memory. */
function issuedIndexFor(
  config: Config,
  logger: Logger,
  fleet: Fleet | undefined,
  now: (() => Date) | undefined,
): IssuedIndex {
  const clock = now ? { now } : {}
  if (fleet) return createFleetIssuedIndex({ ...fleet.shared, logger, ...clock })
  // Twice the cache: an entry outlives its cache slot (it stays until the credential expires, plus a grace).
  return createMemoryIssuedIndex({
    maxEntries: config.cache.maxEntries * 2,
    maxBytes: cacheBudgets(config.cache.maxMemoryMiB).issuedIndex,
    ...clock,
  })
}

/** /readyz: the issuers' keys, the service's own STS identity (never root), and the fleet's Redis. */
function readinessChecks(
  verifier: TokenVerifier,
  client: StsClient,
  fleet: Fleet | undefined,
): ReadinessCheck[] {
  return [
    {
      name: 'issuers',
      check: async () => {
        const r = await verifier.readiness()
        // Reasons are short codes (jwks_weak_key, http_503, timeout…), never a response body.
        const failing = Object.entries(r.issuers)
          .filter(([, v]) => !v.ready)
          .map(([id, v]) => (v.reason ? `${id}: ${v.reason}` : id))
        return r.ready ? { ready: true } : { ready: false, detail: `keys not fetched: ${failing.join(', ')}` }
      },
    },
    {
      name: 'sts',
      check: async () => {
        try {
          await client.checkIdentity()
          return { ready: true }
        } catch (err) {
          const root = err instanceof RootIdentityRefused
          return { ready: false, detail: root ? 'root account identity refused' : 'identity not resolvable' }
        }
      },
    },
    ...(fleet ? [fleet.readiness] : []),
  ]
}

/** Builds every adapter the app needs from a validated config: the composition of design §2. */
export async function buildAdapters(
  config: Config,
  logger: Logger,
  stsClient?: StsClient,
  options: AdapterOptions = {},
): Promise<Adapters> {
  const clock = options.now ? { now: options.now } : {}
  const metrics = createMetrics({ defaults: true })
  const token = metricsToken(config)
  const fleet = await createFleetIfConfigured(config, logger, metrics)
  const client =
    stsClient ??
    createAlibabaStsClient({
      sts: config.sts,
      logger,
      observer: {
        call: (outcome, seconds) => metrics.stsCall(outcome, seconds),
        breaker: (state) => metrics.breaker(state),
      },
      ...(fleet ? { rateCap: fleet.rateCap } : {}),
    })
  const budgets = cacheBudgets(config.cache.maxMemoryMiB)
  const sts = createStsService({
    client,
    cache: { ...config.cache, maxBytes: budgets.credentials },
    ...clock,
    ...(fleet ? { wrapCache: fleet.wrapCache } : {}),
  })
  const index = options.issuedIndex ?? issuedIndexFor(config, logger, fleet, options.now)
  const audit = createAudit(logger, metrics)
  const shared = fleet ? { fleet: fleet.shared } : {}
  const live = await startLiveConfig(config, { logger, sts, audit, metrics, index, ...shared }, options)
  const stores = await createLimiterStores(config.limits)
  const lifecycle: Lifecycle = { draining: false }
  const deps: AppDeps = {
    config,
    logger,
    verifier: live.holder.verifier,
    issueCredentials: live.issueCredentials,
    simulate: live.holder.simulate,
    listGrants: live.listGrants,
    explainDenial: createExplainDenial({ index, ...clock }),
    readyInfo: () => ({ config: live.info() }),
    audit,
    metrics,
    metricsToken: token,
    readiness: readinessChecks(live.holder.verifier, client, fleet),
    limiterStores: { perIp: stores.perIp, perSubject: stores.perSubject },
    lifecycle,
  }
  const close = async () => {
    live.close()
    await stores.close()
    await fleet?.close()
  }
  return { deps, stsClient: client, lifecycle, live, close }
}

// Start-up must end within 10 s even when STS never answers; the SDK's own timeouts are configurable.
const IDENTITY_CHECK_MS = 8000

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Asks STS who the service's own identity is, before listening. Throws RootIdentityRefused for a root
 * account; logs the identity's ARN (`sts.identity`) otherwise. When STS can't answer (unreachable,
 * refusing the key, too slow), it logs that and returns: the service serves and /readyz fails until STS
 * answers, as for an unresolvable endpoint.
 */
export async function checkServiceIdentity(
  client: StsClient,
  logger: Logger,
): Promise<CallerIdentity | null> {
  let identity: CallerIdentity
  try {
    identity = await within(client.getCallerIdentity(), IDENTITY_CHECK_MS)
  } catch (err) {
    const reason = err instanceof AppError ? (err.reason ?? err.code) : 'GetCallerIdentity timed out'
    logger.warn(
      { event: 'sts.identity', reason },
      'own Alibaba identity not checked at start; /readyz fails until STS answers',
    )
    return null
  }
  if (isRootIdentityType(identity.identityType)) throw new RootIdentityRefused(identity.arn)
  logger.info(
    { event: 'sts.identity', arn: identity.arn, identity_type: identity.identityType },
    'service identity',
  )
  return identity
}

/** The separate `/metrics` listener of `server.metrics.listen`, when configured. */
async function startMetricsListener(
  config: Config,
  deps: { metrics: Metrics; metricsToken?: string | undefined },
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> } | undefined> {
  const listenOn = config.server.metrics.listen
  if (!listenOn) return undefined
  const app = createMetricsApp({ metrics: deps.metrics, metricsToken: deps.metricsToken, logger })
  const server = createServer({ connectionsCheckingInterval: 1000 }, app)
  server.requestTimeout = 10_000
  server.headersTimeout = 10_000
  const port = await listen(server, listenOn.port, listenOn.host)
  const url = `http://${urlHost(listenOn.host, port)}`
  logger.info({ event: 'metrics.listening', url }, 'metrics listening')
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Builds the app from a validated config and listens on server.host:server.port. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger()
  const { config } = options
  const adapters = await buildAdapters(config, logger, options.stsClient, options.live)
  try {
    await checkServiceIdentity(adapters.stsClient, logger)
  } catch (err) {
    await adapters.close()
    throw err
  }
  logRuleWarnings(logger, adapters.live.holder.current())
  const app = createApp({ ...adapters.deps, devIssuer: options.devIssuer })
  // Headers up to 32 KiB so an oversized bearer token reaches our own 8 KiB check (design §6.1).
  // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (default 30 s),
  // which would let a slow-header client hold a socket for ~40 s instead of 10 (SEC-095).
  const server = createServer({ maxHeaderSize: 32 * 1024, connectionsCheckingInterval: 1000 }, app)
  // Slow-header and slow-body clients are cut off (Node's default headersTimeout is 60 s).
  server.requestTimeout = config.server.requestTimeoutMs
  server.headersTimeout = Math.min(10_000, config.server.requestTimeoutMs)
  const port = await listen(server, config.server.port, config.server.host)
  const url = `http://${urlHost(config.server.host, port)}`
  logger.info({ event: 'server.listening', url }, 'listening')
  const metricsServer = await startMetricsListener(config, adapters.deps, logger)
  return {
    server,
    url,
    metricsUrl: metricsServer?.url,
    live: adapters.live,
    close: async () => {
      await metricsServer?.close()
      // Drain: new requests get 503, in-flight ones finish, idle keep-alive sockets close. close() only
      // closes the sockets idle at that moment; one whose answer ends later would otherwise stay open for
      // keepAliveTimeout (5 s) and hold the exit back, so idle sockets are closed again every 100 ms.
      adapters.lifecycle.draining = true
      const sweep = setInterval(() => server.closeIdleConnections(), 100)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      clearInterval(sweep)
      await adapters.close()
    },
  }
}

/** Runs until SIGTERM/SIGINT; exits 1 on an invalid config, non-zero on an unhandled rejection. */
/**
 * What the process does with an unhandled rejection or an uncaught exception: one fatal line with the
 * same safe fields as every other error log (never the message, which may quote a URL, a policy or a
 * secret; the stack scrubbed), then exit 70.
 */
export function crashHandler(logger: Logger, exit: (code: number) => void = process.exit) {
  return (kind: 'unhandledRejection' | 'uncaughtException', err: unknown): void => {
    logger.fatal({ event: 'process.crashed', kind, cause: safeErrorFields(err, { stack: true }) }, 'crashed')
    logger.flush()
    exit(70)
  }
}

export async function main(
  configPath: string | undefined,
  options: { shadowPath?: string } = {},
): Promise<void> {
  const logger = createLogger()
  const crash = crashHandler(logger)
  process.on('unhandledRejection', (reason) => crash('unhandledRejection', reason))
  process.on('uncaughtException', (err) => crash('uncaughtException', err))
  if (!configPath) {
    process.stderr.write('sts-vend: no config: pass --config FILE or set STS_VEND_CONFIG\n')
    process.exit(2)
  }
  let config: Config
  let text: string
  try {
    text = readConfigFile(configPath)
    config = loadConfig(text)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sts-vend: ${configPath}: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const live = { configPath, configSha256: sha256Hex(text), shadowPath: options.shadowPath }
  let running: RunningServer
  try {
    running = await startServer({ config, logger, live }).catch((err: unknown) => {
      // An invalid shadow config or deny list is an invalid input too: one message, exit 1.
      if (!(err instanceof ConfigError || err instanceof DenyListError)) throw err
      process.stderr.write(`sts-vend: ${err.message}\n`)
      process.exit(1)
    })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sts-vend: ${configPath}: ${err.message}\n`)
      process.exit(1)
    }
    // Never run as a root account: one line saying what to use instead, exit 1, nothing ever listened.
    if (err instanceof RootIdentityRefused) {
      process.stderr.write(`sts-vend: refusing to start: ${err.message}\n`)
      logger.flush()
      process.exit(1)
    }
    // A port in use or not permitted is the operator's to fix: one line, not a stack trace.
    if ((err as NodeJS.ErrnoException).syscall !== 'listen') throw err
    const { code } = err as NodeJS.ErrnoException
    process.stderr.write(`sts-vend: cannot listen on ${config.server.host}:${config.server.port}: ${code}\n`)
    process.exit(1)
  }
  const stopReloading = startReloader(running.live, configPath)
  let stopping = false
  const stop = (signal: string) => {
    stopReloading()
    if (stopping) return
    stopping = true
    logger.info({ event: 'server.stopping', signal }, 'draining')
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    void running.close().then(() => {
      logger.flush()
      process.exit(0)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.env['STS_VEND_CONFIG'])
}
