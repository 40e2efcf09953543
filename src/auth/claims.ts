// Claim checks jose leaves to the caller: sub, finite dates, a future iat without maxTokenAge, aud member types.
import type { IssuerConfig } from '../config/index.ts'
import { InvalidToken } from '../errors.ts'

/**
 * Checks a payload that jose has already verified (signature, iss, aud, exp present and not past,
 * nbf, maxTokenAge). Returns the subject.
 *
 * - `sub` must be a string with a non-blank value (jose checks `sub` only when asked for a value).
 * - `exp`, `nbf`, `iat` must be finite: JSON's `1e400` parses to Infinity, which jose would take as
 *   "never expires".
 * - `iat` more than `clockToleranceSeconds` in the future is refused; jose checks it only when
 *   `maxTokenAge` is set.
 * - Every member of an `aud` array must be a string (jose matches one member and ignores the rest).
 *
 * @throws InvalidToken (presented) with a reason for the log.
 */
export function checkVerifiedClaims(
  payload: Readonly<Record<string, unknown>>,
  issuer: IssuerConfig,
  now: Date,
): string {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = payload[claim]
    if (value !== undefined && !Number.isFinite(value)) throw refused(`${claim}_not_finite`)
  }
  const nowSeconds = Math.floor(now.getTime() / 1000)
  const iat = payload['iat']
  if (typeof iat === 'number' && iat > nowSeconds + issuer.clockToleranceSeconds)
    throw refused('iat_in_future')
  const aud = payload['aud']
  if (Array.isArray(aud) && aud.some((member) => typeof member !== 'string')) {
    throw refused('aud_member_not_string')
  }
  const sub = payload['sub']
  if (typeof sub !== 'string' || sub.trim() === '') throw refused('sub_invalid')
  return sub
}

/**
 * The epoch ms after which a verified token's Caller must not be served from cache: its `exp`, or
 * `iat + maxTokenAgeSeconds` when that is sooner, and never later than `now + maxCacheMs`.
 */
export function cacheDeadline(
  payload: Readonly<Record<string, unknown>>,
  issuer: IssuerConfig,
  now: Date,
  maxCacheMs: number,
): number {
  let deadline = now.getTime() + maxCacheMs
  const exp = payload['exp']
  if (typeof exp === 'number') deadline = Math.min(deadline, exp * 1000)
  const iat = payload['iat']
  if (issuer.maxTokenAgeSeconds !== undefined && typeof iat === 'number') {
    deadline = Math.min(deadline, (iat + issuer.maxTokenAgeSeconds) * 1000)
  }
  return deadline
}

function refused(reason: string): InvalidToken {
  return new InvalidToken({ presented: true, reason })
}
