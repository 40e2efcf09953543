// Strict `Authorization: Bearer <token>` parsing (RFC 6750 §2.1, design §6.1); the query string is never read.
import { InvalidToken } from '../errors.ts'

/** Tokens longer than this are refused before any other work (design §6.1). */
export const MAX_TOKEN_BYTES = 8 * 1024

// Three non-empty base64url segments: a compact JWS. A JWE has five and is refused here.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
// A compact JWE: its encrypted-key segment is empty for "dir" and ECDH-ES.
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Extracts the token from the values of the request's Authorization header(s).
 *
 * Pass `req.headersDistinct.authorization`: Node keeps only the first of duplicate
 * `Authorization` headers in `req.headers`, so a second one would go unseen there. The scheme is
 * case-insensitive (RFC 7235) and is followed by exactly one space and the token, with nothing
 * after it. A token in the query string or the body is never read: this function (and the whole
 * auth module) only ever sees header values.
 *
 * @throws InvalidToken with `presented: false` when there is no Authorization header or its scheme
 *   is not Bearer; with `presented: true` for two or more headers, an empty or malformed Bearer
 *   credential, a token of more than 8 KiB, or one that is not three base64url segments.
 */
export function parseBearer(values: readonly string[] | undefined): string {
  if (values === undefined || values.length === 0) {
    throw new InvalidToken({ presented: false, reason: 'no_authorization' })
  }
  if (values.length > 1) throw new InvalidToken({ presented: true, reason: 'duplicate_authorization' })
  const value = values[0] ?? ''
  const space = value.indexOf(' ')
  const scheme = space === -1 ? value : value.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') throw new InvalidToken({ presented: false, reason: 'not_bearer' })
  const token = space === -1 ? '' : value.slice(space + 1)
  if (token.length === 0) throw new InvalidToken({ presented: true, reason: 'empty_bearer' })
  // Length first: the regex below then never runs on an unbounded string.
  if (token.length > MAX_TOKEN_BYTES) throw new InvalidToken({ presented: true, reason: 'token_too_large' })
  if (!COMPACT_JWS.test(token)) {
    // A JWE is never decrypted (no PBES2 work, no inflate): refused on its shape alone.
    const reason = COMPACT_JWE.test(token) ? 'jwe_refused' : 'malformed_bearer'
    throw new InvalidToken({ presented: true, reason })
  }
  return token
}
