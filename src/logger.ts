// pino with redaction of every secret field (design §9): what must never reach a log line.
import { type DestinationStream, type Logger, pino } from 'pino'
import { batchedDestination } from './log-batch.ts'

export type { Logger }

/** Field names that carry secrets, in every casing the SDKs, our formats and HTTP use. */
export const SECRET_FIELDS = [
  'accessKeySecret',
  'AccessKeySecret',
  'access_key_secret',
  'securityToken',
  'SecurityToken',
  'security_token',
  'stsToken',
  'sts_token',
  'stoken',
  'secret',
  'authorizationCode',
  'authorization',
  'Authorization',
  'token',
  'jwt',
  'id_token',
  'access_token',
  'x-acs-security-token',
  'x-oss-security-token',
  'cookie',
  'set-cookie',
  'password',
  'client_secret',
  'refresh_token',
  'bearerToken',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
] as const

/** Any key ending like this is a secret too, whatever precedes it (clientSecret, oidcToken, proxy-authorization). */
const SECRET_SUFFIXES = ['secret', 'token', 'password', 'authorization', 'cookie'] as const

const CENSOR = '[redacted]'
/** Deeper than this, a subtree is replaced whole: a log line is not the place for it. */
const MAX_DEPTH = 32

const normalise = (key: string) => key.toLowerCase().replace(/[-_]/g, '')
const SECRET_KEYS = new Set<string>(SECRET_FIELDS.map(normalise))

/** True for a key that names a secret, in any casing and with or without `-`/`_` separators. */
export function isSecretKey(key: string): boolean {
  const n = normalise(key)
  return SECRET_KEYS.has(n) || SECRET_SUFFIXES.some((suffix) => n.endsWith(suffix))
}

// Every secret key contains one of these stems, so a line with none of them is written unparsed
// (the common case; the logger tests prove every SECRET_FIELDS entry is caught).
const STEMS = ['secret', 'token', 'password', 'jwt', 'cookie', 'authorization']
const MAY_HOLD_SECRET = new RegExp(STEMS.map((stem) => [...stem].join('[-_]*')).join('|'), 'i')

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[too deep]'
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1))
  // A null prototype keeps a "__proto__" key an ordinary key.
  const out: Record<string, unknown> = Object.create(null)
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? CENSOR : redactValue(item, depth + 1)
  }
  return out
}

/**
 * Redacts one serialised log line. It works on the final JSON, so it sees what serializers, child
 * bindings and error objects put there, at any depth (pino's own path redaction has a fixed depth).
 */
export function redactLine(line: string): string {
  if (!MAY_HOLD_SECRET.test(line)) return line
  try {
    return `${JSON.stringify(redactValue(JSON.parse(line), 0))}\n`
  } catch {
    return `${JSON.stringify({ level: 'error', msg: 'log line withheld: it could not be redacted' })}\n`
  }
}

export interface LoggerOptions {
  level?: string
  /** Where lines go; stdout by default, one write per event-loop turn (log-batch.ts). Tests pass a capturing stream. */
  destination?: DestinationStream
}

/**
 * pino's isoTime, its string built once per millisecond: at thousands of lines a second, most lines share
 * their millisecond with the line before, and Date#toISOString was about 0.4 µs of every line (issue 22).
 */
export function cachedIsoTime(now: () => number = Date.now): () => string {
  let last = Number.NaN
  let text = ''
  return () => {
    const ms = now()
    if (ms !== last) {
      last = ms
      text = `,"time":"${new Date(ms).toISOString()}"`
    }
    return text
  }
}

/** Creates the service logger. The value of every secret key (see `isSecretKey`), at any depth, becomes "[redacted]". */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      base: { service: 'sts-vend' },
      timestamp: cachedIsoTime(),
      hooks: { streamWrite: redactLine },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? batchedDestination(pino.destination({ fd: 1, sync: false })),
  )
}

/** Lines with pre-serialized leading fields: `bound` is what serializeBindings returns. */
export type BoundLineWriter = (bound: string, fields: object, msg: string) => void

/** `bindings` as a pino child would serialize them: `,"a":1,"b":"x"` (each value by JSON.stringify). */
export function serializeBindings(bindings: Record<string, unknown>): string {
  const json = JSON.stringify(bindings)
  return json.length > 2 ? `,${json.slice(1, -1)}` : ''
}

/**
 * Writes at info, through `logger` (its level, time, base and redaction hook), the same line as
 * `logger.child(bindings).info(fields, msg)` when `bound` is serializeBindings(bindings), without building
 * a child per line (a pino child costs its object, its formatters and ~2 KiB kept: issue 22). One child
 * is reused: its bindings string is set before each write, which pino reads synchronously.
 */
export function boundLineWriter(logger: Logger): BoundLineWriter {
  const line = logger.child({}) as unknown as Logger & Record<symbol, string>
  const chindings = pino.symbols.chindingsSym
  const base = line[chindings] ?? ''
  return (bound, fields, msg) => {
    line[chindings] = base + bound
    line.info(fields, msg)
  }
}

/** A logger that keeps every line as a parsed object: for tests that prove what is (not) logged. */
export function createCapturingLogger(level = 'trace'): {
  logger: Logger
  lines: Record<string, unknown>[]
  raw: string[]
} {
  const lines: Record<string, unknown>[] = []
  const raw: string[] = []
  const destination: DestinationStream = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue
        raw.push(line)
        lines.push(JSON.parse(line) as Record<string, unknown>)
      }
    },
  }
  return { logger: createLogger({ level, destination }), lines, raw }
}
