// Scans a service log for secrets it must never contain: issued AccessKeySecrets, SecurityTokens, the JWTs used.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

/** Secrets shorter than this are matched whole only; longer ones also when a 24-character piece appears. */
const PIECE = 24
const SECRET_RUN = /[A-Za-z0-9+/=._-]{24,}/g

export interface ScanResult {
  lines: number
  /** Lines that are not one JSON object. */
  nonJson: number
  /** Lines holding a secret (whole, or a 24-character piece of a longer one). */
  leaks: number
  /** The first few leaking lines' numbers (never the lines themselves). */
  leakLines: number[]
  /** Lines by `event` field. */
  events: Record<string, number>
  /** Lines by `level`. */
  levels: Record<string, number>
}

/**
 * Reads `file` line by line. Every secret of 36 characters or more is indexed by its pieces of 24
 * characters at every 12th offset, so any 36 consecutive characters of it, wherever they sit in a line
 * (a URL, a message, a JSON string), contain an indexed piece; shorter secrets are matched whole.
 */
export async function scanLog(file: string, secrets: Iterable<string>): Promise<ScanResult> {
  const pieces = new Set<string>()
  const whole: string[] = []
  for (const secret of secrets) {
    if (secret.length < PIECE * 1.5) whole.push(secret)
    else for (let i = 0; i + PIECE <= secret.length; i += PIECE / 2) pieces.add(secret.slice(i, i + PIECE))
  }
  const result: ScanResult = { lines: 0, nonJson: 0, leaks: 0, leakLines: [], events: {}, levels: {} }
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  for await (const line of lines) {
    if (line === '') continue
    result.lines += 1
    try {
      const record = JSON.parse(line) as Record<string, unknown>
      const event = typeof record['event'] === 'string' ? record['event'] : '(none)'
      const level = typeof record['level'] === 'string' ? record['level'] : String(record['level'])
      result.events[event] = (result.events[event] ?? 0) + 1
      result.levels[level] = (result.levels[level] ?? 0) + 1
    } catch {
      result.nonJson += 1
    }
    let leak = whole.some((secret) => line.includes(secret))
    // Secrets are made of base64/base64url/alphanumeric characters: only runs of those can hold a piece.
    for (const run of leak ? [] : line.matchAll(SECRET_RUN)) {
      const text = run[0]
      for (let i = 0; !leak && i + PIECE <= text.length; i++) leak = pieces.has(text.slice(i, i + PIECE))
      if (leak) break
    }
    if (leak) {
      result.leaks += 1
      if (result.leakLines.length < 5) result.leakLines.push(result.lines)
    }
  }
  return result
}
