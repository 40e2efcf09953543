// `sts-vend token`: asks the running dev issuer (POST /dev/token) for a token and prints it.
import { parseArgs } from 'node:util'
import { DEV_ISSUER_DEFAULT_URL } from '../dev/defaults.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

/** The issuer sets these itself (src/dev/issuer.ts); refusing them here gives a usage error, not a 400. */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'sub', 'iat', 'exp'])
const TIMEOUT_MS = 5000

/** `k=v` → [k, v], with v parsed as JSON when it parses (`groups=["a"]`, `email_verified=true`), else the string. */
export function parseClaim(text: string): [string, unknown] {
  const eq = text.indexOf('=')
  if (eq <= 0) throw new UsageError(`--claim must be NAME=VALUE, got ${JSON.stringify(text)}`)
  const name = text.slice(0, eq)
  if (RESERVED_CLAIMS.has(name)) throw new UsageError(`--claim ${name}: the dev issuer sets ${name} itself`)
  if (name === '__proto__') throw new UsageError('--claim __proto__ is not a claim name')
  const raw = text.slice(eq + 1)
  try {
    return [name, JSON.parse(raw)]
  } catch {
    return [name, raw]
  }
}

interface TokenRequest {
  /** The issuer URL as given, without a trailing slash. */
  issuer: string
  body: { sub: string; claims: Record<string, unknown>; ttlSeconds?: number }
}

function parseIssuer(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--issuer must be an absolute URL, got ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--issuer must be an http(s) URL')
  if (url.search || url.hash) throw new UsageError('--issuer must not carry a query or a fragment')
  return url.href.replace(/\/+$/, '')
}

function parseTtl(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^[1-9]\d{0,5}$/.test(value) || Number(value) > 86_400)
    throw new UsageError(`--ttl must be 1-86400 seconds, got ${JSON.stringify(value)}`)
  return Number(value)
}

function parseTokenArgs(argv: string[]): TokenRequest {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' },
      claim: { type: 'string', multiple: true },
      issuer: { type: 'string' },
      ttl: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.sub === undefined || values.sub === '') throw new UsageError('--sub SUBJECT is required')
  if (values.sub.length > 256) throw new UsageError('--sub must be at most 256 characters')
  const claims: Record<string, unknown> = {}
  for (const text of values.claim ?? []) {
    const [name, value] = parseClaim(text)
    claims[name] = value
  }
  const ttlSeconds = parseTtl(values.ttl)
  const issuer = parseIssuer(values.issuer ?? DEV_ISSUER_DEFAULT_URL)
  return { issuer, body: { sub: values.sub, claims, ...(ttlSeconds !== undefined && { ttlSeconds }) } }
}

const isParseArgsError = (err: unknown) => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
}

async function mintViaIssuer({ issuer, body: request }: TokenRequest, io: CliIo): Promise<number> {
  let response: Response
  try {
    response = await fetch(`${issuer}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch {
    io.err(`sts-vend token: cannot reach the dev issuer at ${issuer} (is 'sts-vend dev' running?)\n`)
    return EXIT.invalid
  }
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (response.status !== 200 || typeof b['token'] !== 'string') {
    const why = typeof b['error_description'] === 'string' ? `: ${b['error_description']}` : ''
    io.err(`sts-vend token: the dev issuer at ${issuer} answered ${response.status}${why}\n`)
    return EXIT.invalid
  }
  io.out(`${b['token']}\n`)
  return EXIT.ok
}

export const tokenCommand: Command = {
  summary: 'mint a dev token from the running dev issuer (sts-vend dev)',
  help: `Usage: sts-vend token --sub SUBJECT [--claim NAME=VALUE]... [--issuer URL] [--ttl SECONDS]

Asks the dev issuer that 'sts-vend dev' runs (POST /dev/token) for a signed JWT and prints it, then a
newline, on stdout. Dev mode only: no production issuer has this endpoint.

Options:
  --sub SUBJECT        the token's sub (required, 1-256 characters)
  --claim NAME=VALUE   an extra claim; VALUE is parsed as JSON when it parses, else taken as a string:
                       --claim groups='["photo-app"]' --claim email_verified=true --claim team=blue
                       Repeatable. iss, aud, sub, iat and exp are set by the issuer.
  --issuer URL         the dev issuer (default ${DEV_ISSUER_DEFAULT_URL})
  --ttl SECONDS        lifetime, 1-86400 (default 3600)

Example:
  curl -H "Authorization: Bearer $(sts-vend token --sub alice --claim groups='["photo-app"]')" \\
       http://127.0.0.1:8787/v1/credentials

Exit codes: 0 printed a token, 1 the issuer is unreachable or refused, 2 usage error.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    let request: TokenRequest
    try {
      request = parseTokenArgs(argv)
    } catch (err) {
      if (!(err instanceof UsageError || isParseArgsError(err))) throw err
      io.err(`sts-vend token: ${(err as Error).message}\nRun 'sts-vend token --help'.\n`)
      return EXIT.usage
    }
    return mintViaIssuer(request, io)
  },
}
