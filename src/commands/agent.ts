// `sts-vend agent`: the loopback sidecar that serves sts-vend credentials to clients that can only GET a URI.
import { access, constants } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { AgentOptionError } from '../agent/errors.ts'
import {
  AGENT_DEFAULT_ROLE_NAME,
  type AgentOptions,
  assertAgentOptions,
  startAgent,
} from '../agent/server.ts'
import { createLogger, type Logger } from '../logger.ts'
import { type CliIo, type Command, EXIT, parsePort, UsageError, untilSignal } from './command.ts'
import { alibabaLoginHeader, parseEndpoint } from './login-alibaba.ts'

const HELP = `Usage: sts-vend agent --server URL --token-file FILE [--port N] [--host 127.0.0.1]
                      [--role-name NAME] [--rule R] [--prefix P] [--access A] [--allow-http]
       sts-vend agent --server URL --alibaba-identity --audience AUD [--endpoint HOST[:PORT]] [...]

A loopback sidecar for clients that can only GET a credentials URI (the Alibaba SDKs' credentials-URI
provider) or read ECS instance metadata. On each refresh it re-reads the caller's JWT from FILE (e.g. a
Kubernetes projected service-account token), asks sts-vend for credentials with it
(GET URL/v1/credentials?format=json), and caches them until their refreshAfter, or until FILE changes.

Serves, to loopback clients only:
  GET /credentials                                     {Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}
  GET /latest/meta-data/ram/security-credentials/      the role name
  GET /latest/meta-data/ram/security-credentials/NAME  the same plus LastUpdated (ECS metadata shape)
  PUT /latest/api/token                                an IMDSv2 session token
When sts-vend cannot be reached, cached credentials are served while they are valid; then 503.

Point clients at it:
  ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:PORT/credentials

Options:
  --server URL       sts-vend's base URL: https, or http on loopback (required)
  --token-file FILE  the file holding the JWT, re-read on every refresh (required unless --alibaba-identity)
  --alibaba-identity instead of a JWT, log in with this host's own Alibaba identity (the standard
                     credential chain: ECS instance RAM role, RRSA, environment AccessKey…): a fresh
                     'sts-vend login-alibaba' header per request to sts-vend
  --audience AUD, --endpoint HOST[:PORT]
                     with --alibaba-identity: the issuer's audience and stsEndpoint (see login-alibaba)
  --port N           port to listen on (default 0: a free port, printed at start)
  --host HOST        a loopback address (default 127.0.0.1); other addresses are refused
  --role-name NAME   the role name the ECS metadata paths list (default ${AGENT_DEFAULT_ROLE_NAME})
  --rule R, --prefix P, --access A
                     passed to sts-vend as the credentials request's rule, prefix and access
  --allow-http       allow plain http to a non-loopback sts-vend (only inside a network that adds TLS)

Prints {"agent":"http://127.0.0.1:PORT"} on stdout when listening; logs (JSON) go to stderr and never
hold the token or the credentials. SIGINT or SIGTERM stops it.

Exit codes: 0 stopped by a signal, 1 the token file is unreadable or the port cannot be bound,
2 usage error (including a non-loopback --host).`

type ParsedAgentArgs = Omit<AgentOptions, 'logger'>

function parseAgentArgs(argv: string[]): ParsedAgentArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      'token-file': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'role-name': { type: 'string' },
      rule: { type: 'string' },
      prefix: { type: 'string' },
      access: { type: 'string' },
      'allow-http': { type: 'boolean' },
      'alibaba-identity': { type: 'boolean' },
      audience: { type: 'string' },
      endpoint: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (!values.server) throw new UsageError('--server URL is required')
  const authorization = alibabaAuthorization(values)
  if (!authorization && !values['token-file']) throw new UsageError('--token-file FILE is required')
  const port = values.port === undefined ? undefined : parsePort(values.port)
  const options: ParsedAgentArgs = {
    server: values.server,
    tokenFile: values['token-file'] ?? '',
    ...(authorization && { authorization }),
    ...(port !== undefined && { port }),
    ...(values.host !== undefined && { host: values.host }),
    ...(values['role-name'] !== undefined && { roleName: values['role-name'] }),
    ...(values.rule !== undefined && { rule: values.rule }),
    ...(values.prefix !== undefined && { prefix: values.prefix }),
    ...(values.access !== undefined && { access: values.access }),
    ...(values['allow-http'] === true && { allowHttp: true }),
  }
  assertAgentOptions(options)
  return options
}

/** `--alibaba-identity --audience AUD [--endpoint E]` → a fresh login header per call; undefined without it. */
function alibabaAuthorization(values: {
  'alibaba-identity'?: boolean | undefined
  audience?: string | undefined
  endpoint?: string | undefined
  'token-file'?: string | undefined
}): (() => Promise<string>) | undefined {
  if (values['alibaba-identity'] !== true) {
    if (values.audience !== undefined || values.endpoint !== undefined)
      throw new UsageError('--audience and --endpoint need --alibaba-identity')
    return undefined
  }
  if (values['token-file'] !== undefined)
    throw new UsageError('give --token-file or --alibaba-identity, not both')
  const audience = values.audience
  if (!audience) throw new UsageError('--alibaba-identity needs --audience AUD')
  const endpoint = parseEndpoint(values.endpoint ?? 'sts.aliyuncs.com')
  return () => alibabaLoginHeader(audience, endpoint)
}

const isParseArgsError = (err: unknown) => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
}

export interface AgentCommandDeps {
  /** Resolves when the agent should stop. Default: the first SIGINT or SIGTERM. */
  untilStop?: () => Promise<unknown>
  /** Default: JSON lines on stderr, so stdout carries only the listening line. */
  logger?: Logger
}

/** Builds the `agent` command; tests inject how it stops and where it logs. */
export function createAgentCommand(deps: AgentCommandDeps = {}): Command {
  return {
    summary: 'run the loopback credentials sidecar (credentials URI and ECS metadata paths)',
    help: HELP,
    async run(argv: string[], io: CliIo): Promise<number> {
      let options: ParsedAgentArgs
      try {
        options = parseAgentArgs(argv)
      } catch (err) {
        if (!(err instanceof UsageError || err instanceof AgentOptionError || isParseArgsError(err)))
          throw err
        io.err(`sts-vend agent: ${(err as Error).message}\nRun 'sts-vend agent --help'.\n`)
        return EXIT.usage
      }
      try {
        if (!options.authorization) await access(options.tokenFile, constants.R_OK)
      } catch {
        io.err(`sts-vend agent: cannot read --token-file ${options.tokenFile}\n`)
        return EXIT.invalid
      }
      const logger = deps.logger ?? createLogger({ destination: pino.destination({ fd: 2, sync: false }) })
      let agent: Awaited<ReturnType<typeof startAgent>>
      try {
        agent = await startAgent({ ...options, logger })
      } catch (err) {
        const code = (err as { code?: unknown }).code
        io.err(
          `sts-vend agent: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0} (${String(code ?? err)})\n`,
        )
        return EXIT.invalid
      }
      io.out(`${JSON.stringify({ agent: agent.url })}\n`)
      await (deps.untilStop ?? untilSignal)()
      await agent.close()
      logger.flush()
      return EXIT.ok
    },
  }
}

export const agentCommand: Command = createAgentCommand()
