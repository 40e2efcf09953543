// Claim paths: `groups` or `org.team` (dotted = nested objects), resolved on own properties only.

/** Deepest claim path a rule may name (a token nested 1,000 deep is walked at most this far). */
export const CLAIM_PATH_MAX_DEPTH = 8

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])

/** Splits and checks a claim path; returns the segments or why the path is refused. */
export function parseClaimPath(path: string): { segments: string[] } | { error: string } {
  const segments = path.split('.')
  if (segments.some((s) => s === '')) return { error: `claim path "${path}" has an empty segment` }
  if (segments.length > CLAIM_PATH_MAX_DEPTH)
    return { error: `claim path "${path}" is deeper than ${CLAIM_PATH_MAX_DEPTH} levels` }
  const bad = segments.find((s) => FORBIDDEN_SEGMENTS.has(s))
  if (bad !== undefined) return { error: `claim path "${path}" uses the reserved name "${bad}"` }
  if (segments.some((s) => /[\s${}]/.test(s)))
    return { error: `claim path "${path}" contains whitespace, "$", "{" or "}"` }
  return { segments }
}

/**
 * Resolves a parsed path in the verified claims. A dotted path always means nested objects: a
 * top-level claim literally named "a.b" is never read (one documented resolution, SEC-065).
 * Returns undefined when any step is missing or not a plain object.
 */
export function resolveClaim(
  claims: Readonly<Record<string, unknown>>,
  segments: readonly string[],
): unknown {
  let current: unknown = claims
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined
    if (!Object.hasOwn(current, segment)) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}
