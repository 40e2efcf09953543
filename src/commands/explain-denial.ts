// `sts-vend explain-denial`: asks a running sts-vend (POST /v1/explain-denial) why OSS refused a credential.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

const TIMEOUT_MS = 10_000

const HELP = `Usage: sts-vend explain-denial --server URL (--token TOKEN | --token-file FILE)
                              --key-id ACCESS_KEY_ID --action oss:ACTION [--bucket BUCKET] [--key KEY]
                              [--error-file FILE] [--json]

Asks sts-vend why OSS refused a request made with credentials it issued to you, and prints the layer
that decided (session-policy, outside-session-policy or expired), the rule, a reason and a one-line fix.
It only answers for credentials issued to the same subject as the token.

Options:
  --server URL        the sts-vend base URL, e.g. https://sts.example.com (required)
  --token TOKEN       your JWT (visible to other local users in the process list: prefer --token-file)
  --token-file FILE   a file holding your JWT
  --key-id ID         the AccessKeyId the request was signed with
  --action ACTION     the OSS action, e.g. oss:DeleteObject
  --bucket BUCKET     the bucket or access point alias (default: the grant's)
  --key KEY           the object key (required for object actions), or the listing prefix
  --error-file FILE   the OSS error response body (XML) the client got; Code, EC, RequestId and, on
                      signature errors, the AccessKeyId, action and key are read from it
  --json              print the answer as JSON

Exit codes: 0 answered, 1 sts-vend refused (e.g. 404: not a key issued to you) or could not be reached,
2 usage error.`

interface DenialArgs {
  server: string
  token: string
  body: Record<string, string>
  json: boolean
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new UsageError(`cannot read ${what} ${path}`)
  }
}

function parseServer(value: string | undefined): string {
  if (!value) throw new UsageError('--server URL is required')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--server must be an absolute URL, got ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--server must be http(s)')
  if (url.search || url.hash) throw new UsageError('--server must not carry a query or a fragment')
  return url.href.replace(/\/+$/, '')
}

function parseDenialArgs(argv: string[]): DenialArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'key-id': { type: 'string' },
      action: { type: 'string' },
      bucket: { type: 'string' },
      key: { type: 'string' },
      'error-file': { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const server = parseServer(values.server)
  if ((values.token === undefined) === (values['token-file'] === undefined))
    throw new UsageError('give exactly one of --token TOKEN or --token-file FILE')
  const token = (values.token ?? readText(values['token-file'] ?? '', '--token-file')).trim()
  if (token === '') throw new UsageError('the token is empty')
  const error =
    values['error-file'] === undefined ? undefined : readText(values['error-file'], '--error-file')
  if (error === undefined && (values['key-id'] === undefined || values.action === undefined))
    throw new UsageError('--key-id and --action are required (or --error-file with the OSS error)')
  const body: Record<string, string> = {}
  if (values['key-id'] !== undefined) body['accessKeyId'] = values['key-id']
  if (values.action !== undefined) body['action'] = values.action
  if (values.bucket !== undefined) body['bucket'] = values.bucket
  if (values.key !== undefined) body['key'] = values.key
  if (error !== undefined) body['error'] = error
  return { server, token, body, json: values.json === true }
}

function printAnswer(answer: Record<string, unknown>, io: CliIo): void {
  const width = 'action'.length
  for (const field of ['layer', 'rule', 'action', 'key', 'reason', 'fix']) {
    const value = answer[field]
    io.out(`${`${field}:`.padEnd(width + 2)}${value === null || value === undefined ? '-' : String(value)}\n`)
  }
}

async function ask(args: DenialArgs, io: CliIo): Promise<number> {
  let response: Response
  try {
    response = await fetch(`${args.server}/v1/explain-denial`, {
      method: 'POST',
      headers: { authorization: `Bearer ${args.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args.body),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch {
    io.err(`sts-vend explain-denial: cannot reach ${args.server}\n`)
    return EXIT.invalid
  }
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null
  if (response.status !== 200 || body === null || typeof body['layer'] !== 'string') {
    const code = typeof body?.['error'] === 'string' ? ` ${body['error']}` : ''
    const why = typeof body?.['error_description'] === 'string' ? `: ${body['error_description']}` : ''
    io.err(`sts-vend explain-denial: ${args.server} answered ${response.status}${code}${why}\n`)
    return EXIT.invalid
  }
  if (args.json) io.out(`${JSON.stringify(body)}\n`)
  else printAnswer(body, io)
  return EXIT.ok
}

export const explainDenialCommand: Command = {
  summary: 'ask sts-vend why OSS refused credentials it issued to you',
  help: HELP,
  async run(argv, io) {
    return ask(parseDenialArgs(argv), io)
  },
}
