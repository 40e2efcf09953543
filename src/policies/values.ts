// The value rules of design §4: what a substituted claim (or a narrowing segment) may be.
import type { Pattern } from './regex.ts'

/** The longest value a template variable may take; the worst-case proof renders every variable at it. */
export const VALUE_MAX_LENGTH = 128

// No `/`, `*`, `?`, `$`, quotes, backslashes, whitespace, control or non-ASCII characters.
const VALUE = /^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$/

/** The value rule as text, for messages. */
export const VALUE_RULE = '^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$ and no ".."'

/** True when `value` obeys the value rules: the safe charset, at most 128 characters, no `..`. */
export function isSafeValue(value: string): boolean {
  // Length first: a 100,000-character claim is refused in O(1), before any regex runs.
  return value.length <= VALUE_MAX_LENGTH && VALUE.test(value) && !value.includes('..')
}

export type ValueResult = { ok: true; value: string } | { ok: false; why: string }

/**
 * Turns a claim into the text a template may use, or says why it cannot (never quoting the value).
 * Strings are kept; non-negative safe integers become their decimal text; everything else is refused.
 */
export function toTemplateValue(raw: unknown, pattern: Pattern | null): ValueResult {
  let value: string
  if (typeof raw === 'string') value = raw
  else if (typeof raw === 'number') {
    // 1e21, -5, 0.1 and 2^53+1 (which parses to a colliding 2^53) are refused.
    if (!Number.isSafeInteger(raw) || raw < 0)
      return { ok: false, why: 'a number that is not a non-negative safe integer' }
    value = String(raw)
  } else if (raw === undefined) return { ok: false, why: 'missing' }
  else
    return {
      ok: false,
      why: `not a string (${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw})`,
    }
  if (value.length > VALUE_MAX_LENGTH) return { ok: false, why: `longer than ${VALUE_MAX_LENGTH} characters` }
  if (!VALUE.test(value)) return { ok: false, why: 'outside the allowed characters' }
  if (value.includes('..')) return { ok: false, why: 'contains ".."' }
  // The rule's pattern can only restrict further: the default rule above always applies.
  if (pattern !== null && !pattern.test(value)) return { ok: false, why: "does not match the rule's pattern" }
  return { ok: true, value }
}
