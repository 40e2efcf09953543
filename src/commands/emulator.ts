// `sts-vend emulator`: the local STS emulator as a process that prints where it listens and runs until a signal.
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  type Emulator,
  type EmulatorConfigInput,
  loadEmulatorConfigFile,
  startEmulator,
} from '../emulator/index.ts'
import { type Command, EXIT, parsePort, UsageError, untilSignal } from './command.ts'

const HELP = `Usage: sts-vend emulator [--config FILE] [--port N] [--oss-port N] [--host H] [--tls]
                          [--simulate-network]

Runs a local Alibaba Cloud STS that the official SDKs (@alicloud/sts20150401, @alicloud/credentials)
use unchanged: ACS3-HMAC-SHA256 and RPC HMAC-SHA1 signatures, the 15-minute date window, nonce replay,
STS callers (role chaining), accounts with root keys, RAM users and roles, AssumeRole's rules (no root
key; the caller's sts:AssumeRole permission; the role's trust policy with sts:ExternalId), SourceIdentity
kept through chaining, GetCallerIdentity, Alibaba's parameter limits and error codes, Throttling.User
above throttle.perSecond per account, and injected faults (on AssumeRole).

Next to STS it runs an OSS endpoint for the buckets and access points of the config: objects in
memory, V4 signatures (header, presigned URL, PostObject form; V1 only on buckets whose
signatureVersions include v1) with AccessKeys or emulator-issued STS credentials, and OSS's
authorization (role policy ∩ session policy, bucket policy, access point policy with bucket-policy
delegation; explicit Deny wins). Clients address it as OSS: virtual-host, Host
<bucket>.oss-<region>.aliyuncs.com (resolve that name to the emulator). A path-style request
(/bucket/key) to an *.aliyuncs.com Host is refused with SecondLevelDomainForbidden, as OSS does;
to an IP or localhost Host it is answered, as a dev convenience.

Once both listen it prints exactly one JSON line on stdout:
  {"sts":"http://127.0.0.1:PORT","oss":"http://127.0.0.1:PORT2"}
With --tls (a self-signed certificate generated at start, needs the openssl command), both are https
and acs:SecureTransport is true on the OSS side:
  {"sts":"https://127.0.0.1:PORT","oss":"https://127.0.0.1:PORT2","ca":"/tmp/…/cert.pem"}
Pass the "ca" file as NODE_EXTRA_CA_CERTS to a Node process that must trust it (the @alicloud/credentials
ram_role_arn provider only speaks https).

  --config FILE   emulator YAML (docs/design.md §10, §14); default: the bundled config with account
                  1000000000000001 (root key LTAIrootKey0001, RAM user sts-vend with key
                  LTAIexampleKeyId01 / exampleSecret01 allowed sts:AssumeRole, roles oss-app-user and
                  oss-browser, bucket examplebucket, access point ap-01) and account 1000000000000002
                  (role partner-oss-access, trusting account 1 with ExternalId sts-vend-partner-01,
                  bucket partnerbucket)
  --port N        the STS port; default 0: a free port
  --oss-port N    the OSS port; default 0: a free port
  --host H        default 127.0.0.1
  --tls           serve https on both
  --simulate-network
                  test hook: on the OSS side, loopback callers may send x-emulator-source-ip: IP
                  (used as acs:SourceIp) and x-emulator-vpc-id: vpc-… (the request comes from that
                  VPC, as a vpc access point requires)

Control endpoints, loopback callers only: GET /__counters (also /__stats), DELETE /__counters,
GET|POST|DELETE /__faults (POST a fault, a list, or {"faults": [...]}: kinds throttle, server_error,
status, delay, reset, malformed, partial, badExpiration, wrongRole), GET|POST /__clock {"offsetSeconds": N}
(moves the clock of both sides, e.g. to expire credentials).

SIGINT or SIGTERM stops it. Exit codes: 0 stopped by a signal, 1 invalid config or cannot listen,
2 usage error.`

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
        'oss-port': { type: 'string' },
        host: { type: 'string' },
        tls: { type: 'boolean' },
        'simulate-network': { type: 'boolean' },
      },
      strict: true,
    })
    let port: number
    let ossPort: number
    try {
      port = values.port === undefined ? 0 : parsePort(values.port)
      ossPort = values['oss-port'] === undefined ? 0 : parsePort(values['oss-port'], '--oss-port')
      if (values.host === '') throw new UsageError('--host must not be empty')
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      io.err(`sts-vend emulator: ${error.message}\nRun 'sts-vend emulator --help'.\n`)
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
        ossPort,
        tls: values.tls === true,
        simulateNetwork: values['simulate-network'] === true,
      })
    } catch (err) {
      if (err instanceof ConfigError) throw err
      const code = (err as NodeJS.ErrnoException).code ?? 'error'
      io.err(`sts-vend emulator: cannot start: ${code}\n`)
      return EXIT.invalid
    }
    const stopping = untilSignal()
    io.out(
      `${JSON.stringify({ sts: emulator.stsUrl, oss: emulator.ossUrl, ...(emulator.caPath ? { ca: emulator.caPath } : {}) })}\n`,
    )
    await stopping
    await emulator.close()
    return EXIT.ok
  },
}
