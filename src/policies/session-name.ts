// RoleSessionName from a rendered template: STS accepts 2-64 of [A-Za-z0-9.@_-].
import { createHash } from 'node:crypto'

/** STS limits RoleSessionName to 64 characters. */
export const SESSION_NAME_MAX = 64
const KEEP = 47
const HASH_HEX = 16

/**
 * Makes a valid RoleSessionName (design §4): every character outside `[A-Za-z0-9.@_-]` becomes `_`;
 * a name over 64 characters becomes its first 47, `-`, and the first 16 hex digits of the sha256 of
 * the sanitised name (unique and still traceable); one shorter than 2 is padded with `_`.
 */
export function sanitizeSessionName(rendered: string): string {
  let name = ''
  for (const char of rendered) name += /^[A-Za-z0-9.@_-]$/.test(char) ? char : '_'
  if (name.length > SESSION_NAME_MAX) {
    const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_HEX)
    name = `${name.slice(0, KEEP)}-${hash}`
  }
  return name.padEnd(2, '_')
}
