// `sts-vend dev`: emulator + dev issuer + the service on loopback, and ready-to-paste curl lines and ali-oss snippet.
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { isLoopbackHost } from '../config/index.ts'
import {
  DEV_AUDIENCE,
  DEV_EMULATOR_DEFAULT_PORT,
  DEV_ISSUER_DEFAULT_PORT,
  DEV_OSS_DEFAULT_PORT,
  DEV_SERVICE_DEFAULT_PORT,
} from '../dev/defaults.ts'
import { startDevIssuer } from '../dev/issuer.ts'
import { DEFAULT_EMULATOR_CONFIG, DEV_ACCESS_KEY } from '../emulator/default-config.ts'
import { type Emulator, startEmulator } from '../emulator/index.ts'
import { createLogger } from '../logger.ts'
import { type CliIo, type Command, EXIT, parsePort, UsageError } from './command.ts'
import { devConfig } from './dev-config.ts'

const HELP = `Usage: sts-vend dev [--port N] [--issuer-port N] [--emulator-port N] [--oss-port N] [--host 127.0.0.1]

Starts four things on loopback: the STS emulator, the OSS emulator (https, with a dev certificate made
at start), a dev OIDC issuer with fresh keys, and sts-vend with a bundled config. Then prints the URLs,
a dev token for alice, ready-to-paste curl lines and an ali-oss snippet for the OSS emulator. Nothing
to configure; no cloud account. Ctrl-C stops everything.

Options:
  --port N           the service (default ${DEV_SERVICE_DEFAULT_PORT})
  --issuer-port N    the dev issuer (default ${DEV_ISSUER_DEFAULT_PORT}); 'sts-vend token' mints more tokens there
  --emulator-port N  the STS emulator (default ${DEV_EMULATOR_DEFAULT_PORT})
  --oss-port N       the OSS emulator (default ${DEV_OSS_DEFAULT_PORT})
  --host H           a loopback address (default 127.0.0.1)

The dev rules bind credentials to HTTPS (acs:SecureTransport), as production rules do, so the OSS
emulator speaks https: give its certificate to Node with NODE_EXTRA_CA_CERTS=<the printed cert.pem>.
It needs the openssl command; without it the OSS emulator falls back to http and the dev
credentials are refused there (the service, the issuer and STS work either way).

The service logs JSON lines to stderr; stdout has only the URLs, the token, the curl lines and the
snippet. Rules of the bundled config: 'ossbrowser-users' (groups contains "ossbrowser"), 'partner'
(claim partner = "acme", cross-account with ExternalId), 'app-users' (everyone else: users/<sub>/).

Exit codes: 0 after Ctrl-C, 1 when a port is taken, 2 usage error.`

interface DevPorts {
  host: string
  port: number
  issuerPort: number
  emulatorPort: number
  ossPort: number
}

function parseDevArgs(argv: string[]): DevPorts {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'issuer-port': { type: 'string' },
      'emulator-port': { type: 'string' },
      'oss-port': { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  })
  const host = values.host ?? '127.0.0.1'
  if (!isLoopbackHost(host))
    throw new UsageError('--host must be a loopback address: dev mode never listens elsewhere')
  const port = (name: string, fallback: number) => {
    const value = (values as Record<string, string | undefined>)[name]
    return value === undefined ? fallback : parsePort(value, `--${name}`)
  }
  return {
    host,
    port: port('port', DEV_SERVICE_DEFAULT_PORT),
    issuerPort: port('issuer-port', DEV_ISSUER_DEFAULT_PORT),
    emulatorPort: port('emulator-port', DEV_EMULATOR_DEFAULT_PORT),
    ossPort: port('oss-port', DEV_OSS_DEFAULT_PORT),
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** The emulator with https on the OSS side; plain http when the openssl command is missing. */
async function startDevEmulator(p: DevPorts, io: CliIo): Promise<Emulator> {
  const options = { config: DEFAULT_EMULATOR_CONFIG, host: p.host, port: p.emulatorPort, ossPort: p.ossPort }
  try {
    return await startEmulator({ ...options, tls: 'oss' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_OPENSSL_MISSING') throw err
    io.err(
      'sts-vend dev: the openssl command is missing, so the OSS emulator speaks plain http and refuses the dev credentials (their policy requires HTTPS)\n',
    )
    return startEmulator(options)
  }
}

/** An ESM file for ali-oss against the OSS emulator, V4-signed and virtual-host addressed (`<bucket>.localhost`). */
export function aliOssSnippet(serviceUrl: string, ossUrl: string, token: string): string {
  const endpoint = ossUrl.replace('//127.0.0.1:', '//localhost:')
  return [
    `import { lookup } from 'node:dns'`,
    `import { Agent } from 'node:https'`,
    `import OSS from 'ali-oss'`,
    ``,
    `const token = '${token}'`,
    `const creds = await (await fetch('${serviceUrl}/v1/credentials', { method: 'POST', headers: { Authorization: \`Bearer \${token}\` } })).json()`,
    `const client = new OSS({`,
    `  region: \`oss-\${creds.region}\`, authorizationV4: true, bucket: creds.bucket,`,
    `  accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, stsToken: creds.securityToken,`,
    `  endpoint: '${endpoint}', cname: false, // virtual-host: requests go to <bucket>.localhost`,
    `  // *.localhost is loopback (RFC 6761), but not every resolver knows it: send those names to 127.0.0.1`,
    `  httpsAgent: new Agent({ lookup: (host, options, cb) => lookup(host.endsWith('.localhost') ? '127.0.0.1' : host, options, cb) }),`,
    `})`,
    `await client.put(\`\${creds.prefix}hello.txt\`, Buffer.from('hello from alice'))`,
    `console.log((await client.get(\`\${creds.prefix}hello.txt\`)).content.toString())`,
    `console.log((await client.list({ prefix: creds.prefix })).objects.map((o) => o.name))`,
  ].join('\n')
}

function banner(urls: { service: string; issuer: string }, emulator: Emulator, token: string): string {
  const auth = shellQuote(`Authorization: Bearer ${token}`)
  const s = urls.service
  const ca = emulator.caPath ? `NODE_EXTRA_CA_CERTS=${emulator.caPath} ` : ''
  const ossHost = emulator.ossUrl.replace('//127.0.0.1:', '//examplebucket.localhost:')
  return [
    `sts-vend dev is running (Ctrl-C stops it)`,
    `  service:       ${s}`,
    `  web console:   ${s}/   (pick a dev user, copy the ossbrowser fields)`,
    `  dev issuer:    ${urls.issuer}   (npx sts-vend token --sub bob --issuer ${urls.issuer})`,
    `  STS emulator:  ${emulator.stsUrl}`,
    `  OSS emulator:  ${emulator.ossUrl}   (virtual-host: ${ossHost}/users/alice/...)`,
    ...(emulator.caPath
      ? [`  OSS certificate: ${emulator.caPath}   (NODE_EXTRA_CA_CERTS for Node clients)`]
      : []),
    ``,
    `A dev token for alice (valid 1 h):`,
    token,
    ``,
    `Try:`,
    `curl -s -X POST ${s}/v1/credentials -H ${auth}`,
    `curl -s ${shellQuote(`${s}/v1/credentials?format=ossbrowser`)} -H ${auth}`,
    `curl -s -X POST ${s}/v1/simulate -H ${auth} -H 'Content-Type: application/json' -d '{"checks":[{"action":"oss:PutObject","key":"users/alice/hello.txt"},{"action":"oss:GetObject","key":"users/bob/secret.txt"}]}'`,
    ``,
    `ali-oss with alice's credentials (save as tour.mjs in this checkout, run: ${ca}node tour.mjs):`,
    aliOssSnippet(s, emulator.ossUrl, token),
    ``,
  ].join('\n')
}

/** Starts the emulator, the issuer and the service; returns the banner. Pushes a closer for each. */
async function startAll(p: DevPorts, io: CliIo, closers: (() => Promise<void>)[]): Promise<string> {
  const logger = createLogger({ destination: pino.destination({ fd: 2, sync: false }) })
  const emulator = await startDevEmulator(p, io)
  closers.push(() => emulator.close())
  const issuer = await startDevIssuer({ host: p.host, port: p.issuerPort, audience: DEV_AUDIENCE, logger })
  closers.push(() => issuer.close())
  const config = devConfig({
    host: p.host,
    port: p.port,
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    audience: DEV_AUDIENCE,
    stsEndpoint: emulator.endpoint,
  })
  const { startServer } = await import('../server.ts')
  const service = await startServer({ config, logger, devIssuer: issuer.issuer })
  closers.push(async () => {
    await service.close()
    logger.flush()
  })
  issuer.allowOrigin(new URL(service.url).origin)
  const token = await issuer.mint('alice', { name: 'Alice Example', email: 'alice@example.test' })
  return banner({ service: service.url, issuer: issuer.issuer }, emulator, token)
}

export const devCommand: Command = {
  summary: 'run the emulator, a dev issuer and the service on loopback (npm run dev)',
  help: HELP,
  async run(argv: string[], io: CliIo) {
    const ports = parseDevArgs(argv)
    // The service's own identity in dev: RAM user sts-vend of account 1000000000000001 (allowed
    // sts:AssumeRole, named by the roles' trust policies), never the account's root key.
    io.env['ALIBABA_CLOUD_ACCESS_KEY_ID'] = DEV_ACCESS_KEY.id
    io.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = DEV_ACCESS_KEY.secret
    io.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED'] = 'true'
    delete io.env['ALIBABA_CLOUD_SECURITY_TOKEN']

    const closers: (() => Promise<void>)[] = []
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined)
    }
    try {
      io.out(await startAll(ports, io, closers))
    } catch (err) {
      await closeAll()
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE' || code === 'EACCES') {
        io.err(
          `sts-vend dev: cannot listen: ${(err as Error).message}. Pick other ports with --port, --issuer-port, --emulator-port, --oss-port.\n`,
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
          clearTimeout(force)
          resolve(EXIT.ok)
        })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  },
}
