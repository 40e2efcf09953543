// `sts-vend dev`: emulator + dev issuer + the service on loopback, and ready-to-paste curl lines.
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { isLoopbackHost } from '../config/index.ts'
import {
  DEV_AUDIENCE,
  DEV_EMULATOR_DEFAULT_PORT,
  DEV_ISSUER_DEFAULT_PORT,
  DEV_SERVICE_DEFAULT_PORT,
} from '../dev/defaults.ts'
import { startDevIssuer } from '../dev/issuer.ts'
import { DEFAULT_EMULATOR_CONFIG, DEV_ACCESS_KEY } from '../emulator/default-config.ts'
import { startEmulator } from '../emulator/index.ts'
import { createLogger } from '../logger.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'
import { devConfig } from './dev-config.ts'

const HELP = `Usage: sts-vend dev [--port N] [--issuer-port N] [--emulator-port N] [--host 127.0.0.1]

Starts, on loopback, the STS emulator, a dev OIDC issuer with fresh keys, and sts-vend with a bundled
config, then prints the URLs, a dev token for alice and ready-to-paste curl lines. Nothing to install
or configure; no cloud account. Ctrl-C stops everything.

Options:
  --port N           the service (default ${DEV_SERVICE_DEFAULT_PORT})
  --issuer-port N    the dev issuer (default ${DEV_ISSUER_DEFAULT_PORT}); 'sts-vend token' mints more tokens there
  --emulator-port N  the STS emulator (default ${DEV_EMULATOR_DEFAULT_PORT})
  --host H           a loopback address (default 127.0.0.1)

The service logs JSON lines to stderr; stdout has only the URLs, the token and the curl lines.
Rules of the bundled config: 'ossbrowser-users' (groups contains "ossbrowser"), 'partner'
(claim partner = "acme", cross-account with ExternalId), 'app-users' (everyone else: users/<sub>/).

Exit codes: 0 after Ctrl-C, 1 when a port is taken, 2 usage error.`

function portOption(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--${name} must be a port number`)
  return Number(value)
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export const devCommand: Command = {
  summary: 'run the emulator, a dev issuer and the service on loopback (npm run dev)',
  help: HELP,
  async run(argv: string[], io: CliIo) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'issuer-port': { type: 'string' },
        'emulator-port': { type: 'string' },
        host: { type: 'string' },
      },
      strict: true,
    })
    const host = values.host ?? '127.0.0.1'
    if (!isLoopbackHost(host))
      throw new UsageError('--host must be a loopback address: dev mode never listens elsewhere')
    const port = portOption(values.port, DEV_SERVICE_DEFAULT_PORT, 'port')
    const issuerPort = portOption(values['issuer-port'], DEV_ISSUER_DEFAULT_PORT, 'issuer-port')
    const emulatorPort = portOption(values['emulator-port'], DEV_EMULATOR_DEFAULT_PORT, 'emulator-port')

    // The service's own identity in dev: RAM user sts-vend of account 1000000000000001 (allowed
    // sts:AssumeRole, named by the roles' trust policies), never the account's root key.
    io.env['ALIBABA_CLOUD_ACCESS_KEY_ID'] = DEV_ACCESS_KEY.id
    io.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = DEV_ACCESS_KEY.secret
    io.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED'] = 'true'
    delete io.env['ALIBABA_CLOUD_SECURITY_TOKEN']

    const logger = createLogger({ destination: pino.destination({ fd: 2, sync: false }) })
    const closers: (() => Promise<void>)[] = []
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined)
    }
    try {
      const emulator = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG, host, port: emulatorPort })
      closers.push(() => emulator.close())
      const issuer = await startDevIssuer({ host, port: issuerPort, audience: DEV_AUDIENCE, logger })
      closers.push(() => issuer.close())
      const config = devConfig({
        host,
        port,
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        audience: DEV_AUDIENCE,
        stsEndpoint: emulator.endpoint,
      })
      const { startServer } = await import('../server.ts')
      const service = await startServer({ config, logger, devIssuer: issuer.issuer })
      closers.push(() => service.close())
      issuer.allowOrigin(new URL(service.url).origin)

      const token = await issuer.mint('alice', { name: 'Alice Example', email: 'alice@example.test' })
      const auth = shellQuote(`Authorization: Bearer ${token}`)
      io.out(
        [
          `sts-vend dev is running (Ctrl-C stops it)`,
          `  service:       ${service.url}`,
          `  web console:   ${service.url}/   (pick a dev user, copy the ossbrowser fields)`,
          `  dev issuer:    ${issuer.issuer}   (sts-vend token --sub bob --issuer ${issuer.issuer})`,
          `  STS emulator:  ${emulator.stsUrl}`,
          `  OSS emulator:  ${emulator.ossUrl}   (path-style: /examplebucket/users/alice/...)`,
          ``,
          `A dev token for alice (valid 1 h):`,
          token,
          ``,
          `Try:`,
          `curl -s -X POST ${service.url}/v1/credentials -H ${auth}`,
          `curl -s ${shellQuote(`${service.url}/v1/credentials?format=ossbrowser`)} -H ${auth}`,
          `curl -s -X POST ${service.url}/v1/simulate -H ${auth} -H 'Content-Type: application/json' -d '{"checks":[{"action":"oss:PutObject","key":"users/alice/hello.txt"},{"action":"oss:GetObject","key":"users/bob/secret.txt"}]}'`,
          ``,
        ].join('\n'),
      )
    } catch (err) {
      await closeAll()
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE' || code === 'EACCES') {
        io.err(
          `sts-vend dev: cannot listen: ${(err as Error).message}. Pick other ports with --port, --issuer-port, --emulator-port.\n`,
        )
        return EXIT.invalid
      }
      throw err
    }

    return new Promise<number>((resolve) => {
      let stopping = false
      const stop = () => {
        if (stopping) return
        stopping = true
        const force = setTimeout(() => resolve(EXIT.ok), 4000)
        force.unref()
        void closeAll().then(() => {
          logger.flush()
          clearTimeout(force)
          resolve(EXIT.ok)
        })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  },
}
