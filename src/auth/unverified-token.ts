// Reads a compact JWS's header and claims before verification, only to refuse early and pick the issuer.
import { InvalidToken } from '../errors.ts'

/** Header and claims of a token whose signature has NOT been checked yet. */
export interface UnverifiedToken {
  header: Readonly<Record<string, unknown>>
  payload: Readonly<Record<string, unknown>>
}

// Header parameters that name a key or a key location. jose never uses them (keys come only from
// the issuer's JWKS), but a token carrying one is an attack or a misconfigured issuer (RFC 8725 §3.10).
const KEY_REFERENCE_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes `token` (three base64url segments, as `parseBearer` returns) without verifying it.
 * Refuses: a segment that is not canonical base64url (so one signature has one spelling), bytes that
 * are not UTF-8, JSON that is not an object or repeats a member name (no last-wins ambiguity between
 * what is checked and what is used), and a header carrying `jwk`, `jku`, `x5u` or `x5c`.
 *
 * @throws InvalidToken (presented) with a reason for the log.
 */
export function decodeUnverified(token: string): UnverifiedToken {
  const segments = token.split('.')
  if (segments.length !== 3) throw refused('not_compact_jws')
  for (const segment of segments) {
    if (Buffer.from(segment, 'base64url').toString('base64url') !== segment) {
      throw refused('non_canonical_base64url')
    }
  }
  const header = decodeObject(segments[0] ?? '', 'header')
  const payload = decodeObject(segments[1] ?? '', 'payload')
  for (const name of KEY_REFERENCE_HEADERS) {
    if (Object.hasOwn(header, name)) throw refused(`header_${name}_refused`)
  }
  return { header, payload }
}

function decodeObject(segment: string, what: 'header' | 'payload'): Record<string, unknown> {
  let text: string
  let value: unknown
  try {
    text = strictUtf8.decode(Buffer.from(segment, 'base64url'))
    value = JSON.parse(text)
  } catch {
    throw refused(`${what}_not_json`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refused(`${what}_not_object`)
  if (hasDuplicateMemberNames(text)) throw refused(`${what}_duplicate_member`)
  return value as Record<string, unknown>
}

/**
 * True when some object in `text` (valid JSON) has two members with the same name after unescaping,
 * e.g. `{"sub":"alice","sub":"admin"}` or `{"a":1,"\u0061":2}`. Iterative, linear in the text.
 */
export function hasDuplicateMemberNames(text: string): boolean {
  // One entry per open container: the member names seen so far, or null for an array.
  const stack: (Set<string> | null)[] = []
  let expectName = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      let end = i + 1
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1
      const names = stack[stack.length - 1]
      if (expectName && names) {
        const name = JSON.parse(text.slice(i, end + 1)) as string
        if (names.has(name)) return true
        names.add(name)
        expectName = false
      }
      i = end
    } else if (c === 0x7b) {
      stack.push(new Set())
      expectName = true
    } else if (c === 0x5b) {
      stack.push(null)
      expectName = false
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop()
      expectName = false
    } else if (c === 0x2c) {
      expectName = stack[stack.length - 1] != null
    }
  }
  return false
}

function refused(reason: string): InvalidToken {
  return new InvalidToken({ presented: true, reason })
}
