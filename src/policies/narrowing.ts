// Request validation that needs no rule (design §6.1 order: 400 before any 403): narrowing prefix, access, duration.
import { InvalidRequest } from '../errors.ts'
import { ACCESS_PRESETS } from './actions.ts'
import { isSafeValue } from './values.ts'

/** STS durations: at least 900 seconds, at most 43200 (a role's largest MaxSessionDuration). */
export const DURATION_MIN = 900
export const DURATION_MAX = 43200
/** OSS object keys are at most 1023 bytes; a narrowing prefix is a key or a folder of keys. */
export const NARROW_PREFIX_MAX = 1023

/** The request fields the policy engine reads, before their types are known to be right. */
export interface AskShape {
  rule?: unknown
  durationSeconds?: unknown
  prefix?: unknown
  access?: unknown
}

/**
 * Validates the shape of a request's narrowing and duration fields, with no rule: `prefix` is a
 * relative path whose every segment obeys the value rules of design §4 (so no wildcard, no `..`,
 * no `//`, no leading `/`), ending in `/` for a folder or not for a single object key; `access` is
 * a preset name; `durationSeconds` an integer in 900..43200; `rule` a string.
 * Throws InvalidRequest (400); the message never quotes the value.
 */
export function assertAskShape(ask: AskShape): void {
  if (
    ask.rule !== undefined &&
    (typeof ask.rule !== 'string' || ask.rule.length === 0 || ask.rule.length > 64)
  )
    throw new InvalidRequest('rule must be a rule id', { reason: 'bad_rule_field' })
  if (ask.durationSeconds !== undefined) {
    const d = ask.durationSeconds
    if (typeof d !== 'number' || !Number.isInteger(d) || d < DURATION_MIN || d > DURATION_MAX)
      throw new InvalidRequest(`durationSeconds must be an integer from ${DURATION_MIN} to ${DURATION_MAX}`, {
        reason: 'bad_duration',
      })
  }
  if (ask.access !== undefined && !(ACCESS_PRESETS as readonly unknown[]).includes(ask.access))
    throw new InvalidRequest(`access must be one of ${ACCESS_PRESETS.join(', ')}`, { reason: 'bad_access' })
  if (ask.prefix !== undefined) {
    const p = ask.prefix
    if (typeof p !== 'string' || p.length === 0 || p.length > NARROW_PREFIX_MAX || !isNarrowingPath(p))
      throw new InvalidRequest(
        'prefix must be a folder ending in "/" or an object key, each segment of [A-Za-z0-9._@=+-] starting with a letter or digit, without ".."',
        { reason: 'bad_prefix' },
      )
  }
}

function isNarrowingPath(prefix: string): boolean {
  const segments = prefix.split('/')
  // A trailing "/" leaves one empty last segment: that is the folder form.
  if (prefix.endsWith('/')) segments.pop()
  return segments.length > 0 && segments.every(isSafeValue)
}
