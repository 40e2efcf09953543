// `sts-vend explain`: the simulate trace for a claims file, without a token, a server or STS.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { compileRules, issuerUrl, loadConfigFile } from '../config/index.ts'
import { AppError } from '../errors.ts'
import { hostCidr, type RuleTrace } from '../policies/index.ts'
import {
  createSimulate,
  type SimulateCheck,
  SimulateDenied,
  type SimulateResult,
} from '../services/simulate.ts'
import { type Caller, type CredentialAsk, FORMATS, type Format } from '../types.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

const HELP = `Usage: sts-vend explain --config FILE --claims FILE [--request JSON] [--check ACTION:KEY]...
                        [--source-ip IP] [--json]

Shows what POST /v1/credentials would decide for a caller with the claims in FILE (a JSON object of
verified JWT claims with at least "iss" and "sub"), without a token, a server or any STS call: the
rules of the caller's issuer in order and why each did or did not match, the matched rule, role ARN,
session name, duration, the rendered session policy with its length and the rule's worst case, and
for each --check whether the policy allows it and which statement decided.

  --config FILE        the service config (validated as at start); default: $STS_VEND_CONFIG
  --claims FILE        JSON claims; the issuer is the configured one whose "issuer" equals "iss"
  --request JSON       the narrowing fields of a credentials request: {"rule", "durationSeconds",
                       "prefix", "access", "format"}
  --check ACTION:KEY   e.g. oss:PutObject:users/alice/a.jpg; KEY is the object key, or the listing
                       prefix for oss:ListObjects/ListObjectVersions/ListMultipartUploads; omit it
                       for oss:GetBucketInfo (oss:GetBucketInfo:). Repeatable. HTTPS is assumed.
  --source-ip IP       the client address for acs:SourceIp conditions (default 127.0.0.1)
  --json               print the trace as JSON instead of text

Exit codes: 0 a rule matches and every check is allowed; 3 denied (no issuer or rule matches, a claim
is unusable, the request asks for more than the grant, or a check is denied); 1 invalid input (bad
config, unreadable claims or request); 2 usage error.`

const REQUEST_FIELDS = ['rule', 'durationSeconds', 'prefix', 'access', 'format'] as const

class InvalidInput extends Error {}

function parseCheck(text: string): SimulateCheck {
  const m = /^(oss:[A-Za-z]{1,64})(?::([\s\S]*))?$/.exec(text)
  if (!m?.[1]) throw new UsageError(`--check must be ACTION:KEY such as oss:GetObject:users/alice/a.jpg`)
  return m[2] === undefined || m[2] === '' ? { action: m[1] } : { action: m[1], key: m[2] }
}

function readClaims(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new InvalidInput(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let claims: unknown
  try {
    claims = JSON.parse(text)
  } catch {
    throw new InvalidInput(`${path} is not valid JSON`)
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw new InvalidInput(`${path} must hold a JSON object of claims`)
  const record = claims as Record<string, unknown>
  if (typeof record['iss'] !== 'string') throw new InvalidInput(`${path}: "iss" must be a string`)
  if (typeof record['sub'] !== 'string' || record['sub'] === '')
    throw new InvalidInput(`${path}: "sub" must be a non-empty string`)
  return record
}

function parseRequest(text: string | undefined): CredentialAsk {
  if (text === undefined) return { format: 'json' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidInput('--request is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidInput('--request must be a JSON object')
  const fields = value as Record<string, unknown>
  const unknown = Object.keys(fields).filter((k) => !(REQUEST_FIELDS as readonly string[]).includes(k))
  if (unknown.length > 0) throw new InvalidInput(`--request: unknown field(s) ${unknown.join(', ')}`)
  const format = fields['format'] ?? 'json'
  if (!(FORMATS as readonly unknown[]).includes(format))
    throw new InvalidInput(`--request: format must be one of ${FORMATS.join(', ')}`)
  // The remaining fields are checked by the policy engine exactly as for a real request.
  return { ...(fields as Omit<CredentialAsk, 'format'>), format: format as Format }
}

const quote = (s: string) => JSON.stringify(s)

function traceLines(rules: readonly RuleTrace[]): string[] {
  if (rules.length === 0) return ['  (no rule of this issuer was evaluated)']
  const width = Math.max(...rules.map((r) => r.id.length))
  return rules.map((r) => `  ${r.id.padEnd(width)}  ${r.matched ? 'match' : 'no   '}  ${r.reason}`)
}

function resultText(caller: Caller, result: SimulateResult, allowed: boolean): string {
  const lines = [
    `caller: iss ${quote(caller.issuer)} (issuer ${caller.issuerId}), sub ${quote(caller.subject)}`,
    'rules:',
    ...traceLines(result.rules),
    `rule: ${result.rule}`,
    `roleArn: ${result.roleArn}`,
    `sessionName: ${result.sessionName}`,
    `durationSeconds: ${result.durationSeconds}`,
    `policyLength: ${result.policyLength} (worst case for the rule ${result.worstCaseLength}, STS limit 2048)`,
    'policy:',
    ...JSON.stringify(JSON.parse(result.policy), null, 2)
      .split('\n')
      .map((l) => `  ${l}`),
  ]
  if (result.checks.length > 0) {
    lines.push('checks:')
    for (const c of result.checks) {
      const target = c.key === null ? c.bucket : `${c.bucket}/${c.key}`
      const why = c.statement === null ? 'no statement allows it' : `statement ${c.statement}`
      lines.push(`  ${c.allowed ? 'allow' : 'deny '}  ${c.action}  ${quote(target)}  (${why})`)
    }
  }
  lines.push(allowed ? 'decision: allowed' : 'decision: denied (a check is not allowed)')
  return `${lines.join('\n')}\n`
}

function deniedText(caller: Caller, denied: SimulateDenied): string {
  const lines = [
    `caller: iss ${quote(caller.issuer)} (issuer ${caller.issuerId}), sub ${quote(caller.subject)}`,
    'rules:',
    ...traceLines(denied.rules),
    denied.rule === null
      ? `decision: denied (${denied.detail})`
      : `decision: denied: rule ${denied.rule} matched, but ${denied.detail}`,
  ]
  return `${lines.join('\n')}\n`
}

async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await explain(argv, io)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.err(`sts-vend explain: ${err.message}\nRun 'sts-vend explain --help'.\n`)
    return EXIT.usage
  }
}

async function explain(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      claims: { type: 'string' },
      request: { type: 'string' },
      check: { type: 'string', multiple: true },
      'source-ip': { type: 'string', default: '127.0.0.1' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${quote(positionals[0] ?? '')}`)
  const configPath = values.config ?? io.env['STS_VEND_CONFIG']
  if (!configPath) throw new UsageError('explain needs --config FILE (or STS_VEND_CONFIG)')
  if (!values.claims) throw new UsageError('explain needs --claims FILE')
  const clientIp = values['source-ip']
  if (hostCidr(clientIp) === null) throw new UsageError('--source-ip must be an IP address')
  const checks = (values.check ?? []).map(parseCheck)

  // A ConfigError here is reported by runCli with exit 1.
  const config = loadConfigFile(configPath)
  const rules = compileRules(config)
  const fail = (message: string) => {
    io.err(`sts-vend explain: ${message}\n`)
    return EXIT.invalid
  }
  let claims: Record<string, unknown>
  let ask: CredentialAsk
  try {
    claims = readClaims(values.claims)
    ask = parseRequest(values.request)
  } catch (err) {
    if (err instanceof InvalidInput) return fail(err.message)
    throw err
  }

  const iss = claims['iss'] as string
  const issuer = config.issuers.find((i) => issuerUrl(i) === iss)
  if (!issuer) {
    // A token from an unconfigured issuer is refused (401) before any rule: no rule can match.
    const reason = `no configured issuer has issuer ${quote(iss)} (matched exactly); its tokens are refused`
    if (values.json)
      io.out(
        `${JSON.stringify({ decision: 'denied', error: 'invalid_token', reason, rule: null, rules: [] }, null, 2)}\n`,
      )
    else io.out(`decision: denied (${reason})\n`)
    return EXIT.denied
  }
  const caller: Caller = { issuerId: issuer.id, issuer: iss, subject: claims['sub'] as string, claims }

  try {
    const result = createSimulate({ rules })(caller, ask, checks, { clientIp })
    const allowed = result.checks.every((c) => c.allowed)
    if (values.json)
      io.out(`${JSON.stringify({ decision: allowed ? 'allowed' : 'denied', ...result }, null, 2)}\n`)
    else io.out(resultText(caller, result, allowed))
    return allowed ? EXIT.ok : EXIT.denied
  } catch (err) {
    if (err instanceof SimulateDenied) {
      if (values.json) {
        const body = {
          decision: 'denied',
          error: err.code,
          reason: err.detail,
          rule: err.rule,
          rules: err.rules,
        }
        io.out(`${JSON.stringify(body, null, 2)}\n`)
      } else io.out(deniedText(caller, err))
      return EXIT.denied
    }
    if (err instanceof AppError && err.code === 'invalid_request') return fail(`--request: ${err.message}`)
    throw err
  }
}

/** `sts-vend explain`: exit 0 allowed, 3 denied, 1 invalid input, 2 usage error. */
export const explainCommand: Command = {
  summary: 'explain the decision and policy for a claims file',
  help: HELP,
  run,
}
