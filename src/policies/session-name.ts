// RoleSessionName from a rendered template: STS accepts 2-64 of [A-Za-z0-9.@_-]; the mapping is one-to-one.
import { createHash } from 'node:crypto'

/** STS limits RoleSessionName to 64 characters. */
export const SESSION_NAME_MAX = 64
const HASH_HEX = 16
/** What is kept of the sanitised name before `-` and the hash: 64 − 1 − 16. */
const KEEP = SESSION_NAME_MAX - 1 - HASH_HEX
const VALID = /^[A-Za-z0-9.@_-]{2,64}$/
/** The tail of a hashed name; a name that already ends like this is hashed too, so none is ambiguous. */
const HASHED_TAIL = new RegExp(`-[0-9a-f]{${HASH_HEX}}$`)

/**
 * Makes a valid RoleSessionName (design §4), one-to-one with the rendered name: a rendered name that
 * is already 2-64 of `[A-Za-z0-9.@_-]` (and does not end like a hashed one) is kept as it is; any
 * other becomes its sanitised form (each character outside the set as `_`) cut to 47 characters,
 * `-`, and the first 16 hex digits of the sha256 of the rendered, unsanitised name. So `a+b`, `a=b`
 * and `a_b` give three names, and every name still shows whose it is.
 */
export function sanitizeSessionName(rendered: string): string {
  if (VALID.test(rendered) && !HASHED_TAIL.test(rendered)) return rendered
  let sanitised = ''
  for (const char of rendered) sanitised += /^[A-Za-z0-9.@_-]$/.test(char) ? char : '_'
  const hash = createHash('sha256').update(rendered).digest('hex').slice(0, HASH_HEX)
  return `${sanitised.slice(0, KEEP)}-${hash}`
}
