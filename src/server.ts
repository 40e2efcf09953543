// Process entry: config → adapters → createApp → listen; signals and exit codes.
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { type AppDeps, createApp, type Lifecycle } from './app.ts'
import { createTokenVerifier } from './auth/index.ts'
import { type Config, ConfigError, compileRules, loadConfigFile } from './config/index.ts'
import { listen, urlHost } from './listen.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics } from './metrics.ts'
import { createLimiterStores } from './routes/middleware/rate-limit.ts'
import { createAudit } from './services/audit.ts'
import { createIssueCredentials } from './services/issue-credentials.ts'
import { createSimulate } from './services/simulate.ts'
import { createAlibabaStsClient, createStsService } from './sts/index.ts'
import type { StsClient } from './types.ts'

export interface RunningServer {
  server: Server
  url: string
  close(): Promise<void>
}

export interface StartOptions {
  config: Config
  logger?: Logger
  /** Replaces the Alibaba SDK client (tests). */
  stsClient?: StsClient
  /** `sts-vend dev` only: the dev issuer's URL; the web console then offers its dev-user picker. */
  devIssuer?: string
}

export interface Adapters {
  deps: AppDeps
  lifecycle: Lifecycle
  close(): Promise<void>
}

/** Builds every adapter the app needs from a validated config: the composition of design §2. */
export async function buildAdapters(
  config: Config,
  logger: Logger,
  stsClient?: StsClient,
): Promise<Adapters> {
  const metrics = createMetrics({ defaults: true })
  const rules = compileRules(config)
  const verifier = createTokenVerifier(config.issuers, { logger })
  const client =
    stsClient ??
    createAlibabaStsClient({
      sts: config.sts,
      logger,
      observer: {
        call: (outcome, seconds) => metrics.stsCall(outcome, seconds),
        breaker: (state) => metrics.breaker(state),
      },
    })
  const sts = createStsService({ client, cache: config.cache })
  const audit = createAudit(logger, metrics)
  const stores = await createLimiterStores(config.limits)
  const lifecycle: Lifecycle = { draining: false }
  const deps: AppDeps = {
    config,
    logger,
    verifier,
    issueCredentials: createIssueCredentials({
      rules,
      sts,
      audit,
      minRemainingSeconds: config.cache.minRemainingSeconds,
    }),
    simulate: createSimulate({ rules }),
    audit,
    metrics,
    readiness: [
      {
        name: 'issuers',
        check: async () => {
          const r = await verifier.readiness()
          const failing = Object.entries(r.issuers)
            .filter(([, v]) => !v.ready)
            .map(([id]) => id)
          return r.ready
            ? { ready: true }
            : { ready: false, detail: `keys not fetched: ${failing.join(', ')}` }
        },
      },
      {
        name: 'sts',
        check: async () => {
          try {
            await client.checkIdentity()
            return { ready: true }
          } catch {
            return { ready: false, detail: 'identity not resolvable' }
          }
        },
      },
    ],
    limiterStores: { perIp: stores.perIp, perSubject: stores.perSubject },
    lifecycle,
  }
  return { deps, lifecycle, close: () => stores.close() }
}

/** Builds the app from a validated config and listens on server.host:server.port. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger()
  const { config } = options
  const adapters = await buildAdapters(config, logger, options.stsClient)
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
  return {
    server,
    url,
    close: async () => {
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
export async function main(configPath: string | undefined): Promise<void> {
  const logger = createLogger()
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection')
    logger.flush()
    process.exit(70)
  })
  if (!configPath) {
    process.stderr.write('sts-vend: no config: pass --config FILE or set STS_VEND_CONFIG\n')
    process.exit(2)
  }
  let config: Config
  try {
    config = loadConfigFile(configPath)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sts-vend: ${configPath}: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  let running: RunningServer
  try {
    running = await startServer({ config, logger })
  } catch (err) {
    // A port in use or not permitted is the operator's to fix: one line, not a stack trace.
    if ((err as NodeJS.ErrnoException).syscall !== 'listen') throw err
    const { code } = err as NodeJS.ErrnoException
    process.stderr.write(`sts-vend: cannot listen on ${config.server.host}:${config.server.port}: ${code}\n`)
    process.exit(1)
  }
  let stopping = false
  const stop = (signal: string) => {
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
