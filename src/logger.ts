// pino with redaction of every secret field (design §9): what must never reach a log line.
import { type DestinationStream, type Logger, pino } from 'pino'

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
] as const

function redactPaths(): string[] {
  const paths: string[] = []
  for (const field of SECRET_FIELDS) {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`
    const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`)
    paths.push(key, join('*'), join('*.*'), join('*.*.*'))
  }
  return paths
}

export interface LoggerOptions {
  level?: string
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream
}

/** Creates the service logger. Secret fields at any depth up to four are replaced by "[redacted]". */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      base: { service: 'sts-vend' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  )
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
