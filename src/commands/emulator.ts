// `sts-vend emulator`: the local STS emulator as a process that prints where it listens and runs until a signal.
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { ConfigError } from '../config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  type Emulator,
  type EmulatorConfigInput,
  loadEmulatorConfigFile,
  startEmulator,
} from '../emulator/index.ts'

const HELP = `Usage: sts-vend emulator [--config FILE] [--port N] [--host H] [--tls]

Runs a local Alibaba Cloud STS that the official SDKs (@alicloud/sts20150401, @alicloud/credentials)
use unchanged: ACS3-HMAC-SHA256 and RPC HMAC-SHA1 signatures, the 15-minute date window, nonce replay,
STS callers (role chaining), accounts, AccessKeys, roles, trust and ExternalId, Alibaba's parameter
limits and error codes, Throttling.User above throttle.perSecond per account, and injected faults.

Once it listens it prints exactly one JSON line on stdout:
  {"sts":"http://127.0.0.1:PORT"}
With --tls (a self-signed certificate generated at start, needs the openssl command):
  {"sts":"https://127.0.0.1:PORT","ca":"/tmp/…/cert.pem"}
Pass the "ca" file as NODE_EXTRA_CA_CERTS to a Node process that must trust it (the @alicloud/credentials
ram_role_arn provider only speaks https).

  --config FILE   emulator YAML (design §10); default: the bundled config with account
                  1000000000000001 (key LTAIexampleKeyId01 / exampleSecret01, roles oss-app-user and
                  oss-browser) and account 1000000000000002 (role partner-oss-access, trusting account
                  1 with ExternalId sts-vend-partner-01)
  --port N        default 0: a free port
  --host H        default 127.0.0.1
  --tls           serve https

Control endpoints, loopback callers only: GET /__counters (also /__stats), DELETE /__counters,
GET|POST|DELETE /__faults (POST a fault, a list, or {"faults": [...]}: kinds throttle, server_error,
status, delay, reset, malformed, partial, badExpiration, wrongRole), GET|POST /__clock {"offsetSeconds": N}.

SIGINT or SIGTERM stops it. Exit codes: 0 stopped by a signal, 1 invalid config or cannot listen,
2 usage error.`

// cli.ts's EXIT codes; only types come from cli.ts, which imports this module.
const EXIT = { ok: 0, invalid: 1, usage: 2 } as const

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null
  const port = Number(text)
  return port <= 65535 ? port : null
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** The `emulator` command. */
export const emulatorCommand: Command = {
  summary: 'run the local Alibaba STS emulator',
  help: HELP,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        tls: { type: 'boolean' },
      },
      strict: true,
    })
    const port = values.port === undefined ? 0 : parsePort(values.port)
    if (port === null || values.host === '') {
      io.err(
        `sts-vend emulator: ${port === null ? '--port must be an integer 0..65535' : '--host must not be empty'}\nRun 'sts-vend emulator --help'.\n`,
      )
      return EXIT.usage
    }
    const config: EmulatorConfigInput = values.config
      ? loadEmulatorConfigFile(values.config)
      : DEFAULT_EMULATOR_CONFIG
    let emulator: Emulator
    try {
      emulator = await startEmulator({
        config,
        host: values.host ?? '127.0.0.1',
        port,
        tls: values.tls === true,
      })
    } catch (err) {
      if (err instanceof ConfigError) throw err
      const code = (err as NodeJS.ErrnoException).code ?? 'error'
      io.err(`sts-vend emulator: cannot start: ${code}\n`)
      return EXIT.invalid
    }
    const stopping = untilSignal()
    io.out(
      `${JSON.stringify({ sts: emulator.stsUrl, ...(emulator.caPath ? { ca: emulator.caPath } : {}) })}\n`,
    )
    await stopping
    await emulator.close()
    return EXIT.ok
  },
}
