// Process entry: config → adapters → createApp → listen; signals and exit codes.
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { createApp } from './app.ts'
import { type Config, ConfigError, loadConfigFile } from './config/index.ts'
import { createLogger, type Logger } from './logger.ts'

export interface RunningServer {
  server: Server
  url: string
  close(): Promise<void>
}

export interface StartOptions {
  config: Config
  logger?: Logger
}

/** Builds the app from a validated config and listens on server.host:server.port. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger()
  const { config } = options
  const app = createApp({ config, logger })
  // Headers up to 32 KiB so an oversized bearer token reaches our own 8 KiB check (design §6.1).
  const server = createServer({ maxHeaderSize: 32 * 1024 }, app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.headersTimeout = 20_000
  server.requestTimeout = config.server.requestTimeoutMs
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.server.port
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  const url = `http://${host}:${port}`
  logger.info({ event: 'server.listening', url }, 'listening')
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
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
  const running = await startServer({ config, logger })
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
