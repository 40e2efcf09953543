// sts-vend commands. Exit codes: 0 success, 1 invalid config or input, 2 usage error, 3 denied (explain).
import { parseArgs } from 'node:util'
import { agentCommand } from './commands/agent.ts'
import { type CliIo, type Command, EXIT, UsageError } from './commands/command.ts'
import { denyCommand } from './commands/deny.ts'
import { devCommand } from './commands/dev.ts'
import { diffCommand } from './commands/diff.ts'
import { doctorCommand } from './commands/doctor.ts'
import { emulatorCommand } from './commands/emulator.ts'
import { explainCommand } from './commands/explain.ts'
import { explainDenialCommand } from './commands/explain-denial.ts'
import { loginAlibabaCommand } from './commands/login-alibaba.ts'
import { tokenCommand } from './commands/token.ts'
import { ConfigError, compileRules, loadConfigFile, metricsToken } from './config/index.ts'
import { selectableWarnings } from './policies/index.ts'

export { type CliIo, type Command, EXIT, UsageError } from './commands/command.ts'

const serve: Command = {
  summary: 'run the service',
  help: `Usage: sts-vend serve --config FILE [--shadow CANDIDATE]

Starts the service with the config FILE (or $STS_VEND_CONFIG). Its own Alibaba identity comes from the
standard credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, credentials file, RAM role ARN, ECS RAM
role, OIDC/RRSA, credentials URI); before listening it asks STS GetCallerIdentity and refuses to run
as a root account. SIGTERM or SIGINT drains in-flight requests and exits 0. SIGHUP or a change of FILE
reloads it (issuers and rules; an invalid file keeps the last good config serving).
--shadow CANDIDATE also decides every request under CANDIDATE, logs each difference as a
shadow.decision line and never serves it or calls STS for it.

Exit codes: 0 stopped by SIGTERM or SIGINT; 1 invalid config or cannot listen on server.host:server.port
(e.g. EADDRINUSE) or a root account identity; 2 usage error.`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, shadow: { type: 'string' } },
      strict: true,
    })
    const path = values.config ?? io.env['STS_VEND_CONFIG']
    if (!path) throw new UsageError('serve needs --config FILE or STS_VEND_CONFIG')
    const { main } = await import('./server.ts')
    await main(path, values.shadow === undefined ? {} : { shadowPath: values.shadow })
    return new Promise<number>(() => {})
  },
}

const checkConfig: Command = {
  summary: 'validate a config file and print a summary',
  help: `Usage: sts-vend check-config FILE
       sts-vend check-config --config FILE
       sts-vend check-config            (the file named by $STS_VEND_CONFIG)

Validates FILE as sts-vend would at start: schema, defaults, cross references, and for every rule the
containment proof and the worst-case policy length. Prints a one-line summary, and a warning on
stderr for each selectable rule that grants more than an earlier rule the same caller could match.

Exit codes: 0 valid (warnings included), 1 invalid (every problem listed with its path), 2 usage error.`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    })
    const path = values.config ?? positionals[0] ?? io.env['STS_VEND_CONFIG']
    if (!path || positionals.length > (values.config ? 0 : 1))
      throw new UsageError('check-config needs one FILE (or STS_VEND_CONFIG)')
    const config = loadConfigFile(path)
    // The metrics token file is read as serve reads it at start: unreadable or short is invalid here too.
    metricsToken(config)
    io.out(
      `${path}: ok — ${config.issuers.length} issuer(s), ${config.rules.length} rule(s): ${config.rules.map((r) => r.id).join(', ')}\n`,
    )
    // Design §14: a valid config may still let a caller skip a restricting rule by naming a later one.
    for (const warning of selectableWarnings(compileRules(config))) io.err(`warning: ${warning}\n`)
    return EXIT.ok
  },
}

export const COMMANDS: Record<string, Command> = {
  serve,
  'check-config': checkConfig,
  explain: explainCommand,
  doctor: doctorCommand,
  'explain-denial': explainDenialCommand,
  emulator: emulatorCommand,
  token: tokenCommand,
  agent: agentCommand,
  dev: devCommand,
  deny: denyCommand,
  diff: diffCommand,
  'login-alibaba': loginAlibabaCommand,
}

function usage(): string {
  const names = Object.keys(COMMANDS)
  const width = Math.max(...names.map((n) => n.length))
  return `Usage: sts-vend <command> [options]

Commands:
${names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]?.summary}`).join('\n')}

Run 'sts-vend <command> --help' for a command's options and exit codes.
`
}

/** Runs one CLI invocation and returns its exit code. Never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ;(name === undefined ? io.err : io.out)(usage())
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  const command = COMMANDS[name]
  if (!command) {
    io.err(`sts-vend: unknown command "${name}"\n\n${usage()}`)
    return EXIT.usage
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.help}\n`)
    return EXIT.ok
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`sts-vend ${name}: ${(err as Error).message}\nRun 'sts-vend ${name} --help'.\n`)
      return EXIT.usage
    }
    if (err instanceof ConfigError) {
      io.err(`sts-vend ${name}: ${err.message}\n`)
      return EXIT.invalid
    }
    throw err
  }
}
