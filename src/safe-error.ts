// Reduces any error to fields safe to log: SDK messages carry the request URL with Policy and tokens.

const URL_PATTERN = /\bhttps?:\/\/[^\s'"]+/gi
const SECRETISH =
  /(Policy|Signature|SecurityToken|AccessKeySecret|x-acs-security-token|x-oss-security-token)=[^&\s]*/gi

/** Removes URLs and key=value secrets from a text (for stacks of unexpected errors). */
export function scrub(text: string): string {
  return text.replace(URL_PATTERN, '<url>').replace(SECRETISH, '$1=<redacted>')
}

/** `{name, code, statusCode, requestId, stack?}`: never the message of an SDK error, never its data. */
export function safeErrorFields(err: unknown, options: { stack?: boolean } = {}): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { name: typeof err }
  const e = err as {
    name?: unknown
    code?: unknown
    statusCode?: unknown
    requestId?: unknown
    stack?: unknown
  }
  const out: Record<string, unknown> = { name: typeof e.name === 'string' ? e.name : 'Error' }
  if (typeof e.code === 'string' || typeof e.code === 'number') out['code'] = e.code
  if (typeof e.statusCode === 'number') out['statusCode'] = e.statusCode
  if (typeof e.requestId === 'string') out['requestId'] = e.requestId
  if (options.stack && typeof e.stack === 'string') {
    // The first stack line repeats the message; keep only the frames.
    out['stack'] = scrub(e.stack.split('\n').slice(1, 12).join('\n'))
  }
  return out
}
