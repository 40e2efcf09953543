// SourceIdentity from the verified caller's subject: what ActionTrail shows for every session sts-vend issues.
import { createHash } from 'node:crypto'

/** STS SourceIdentity: 2-64 of letters, digits and _+=,.@- (the emulator's limits, reference §3). */
export const SOURCE_IDENTITY_MAX = 64
// A subject of only these characters (no `=`), 2-64 long, is sent as it is.
const PLAIN = /^[A-Za-z0-9_+,.@-]{2,64}$/
const KEEP_CHARACTER = /^[A-Za-z0-9_+,.@-]$/
const KEEP = 47
const HASH_HEX = 16

/**
 * The SourceIdentity sent with every AssumeRole for `subject` (the token's `sub`), one-to-one:
 * - a subject of 2-64 characters from `[A-Za-z0-9_+,.@-]` is sent unchanged (`alice@example.com`);
 * - any other becomes its first 47 characters with every character outside that set replaced by `_`,
 *   then `=`, then the first 16 hex digits of the sha256 of the exact subject (`auth0_123=1f2e…`).
 * Plain forms never contain `=` and changed forms contain exactly one, so the two never collide; changed
 * forms differ whenever their subjects do (up to a 64-bit hash collision). Always 2-64 characters.
 */
export function sourceIdentityFor(subject: string): string {
  if (PLAIN.test(subject)) return subject
  let kept = ''
  for (const char of subject) {
    if (kept.length >= KEEP) break
    kept += KEEP_CHARACTER.test(char) ? char : '_'
  }
  const hash = createHash('sha256').update(subject).digest('hex').slice(0, HASH_HEX)
  return `${kept}=${hash}`
}
