// The one timestamp form every Alibaba client reads: UTC YYYY-MM-DDTHH:mm:ssZ, no milliseconds.

/**
 * The last time formatted and its text: a request formats its credentials' expiration twice (the audit
 * line, then the body), so the second is served from here (issue 22). Two numbers and a string.
 */
let lastMs = Number.NaN
let lastText = ''

/** Formats a Date as `YYYY-MM-DDTHH:mm:ssZ` (Alibaba SDKs reject milliseconds and offsets). */
export function formatExpiration(date: Date): string {
  const ms = date.getTime()
  if (ms === lastMs) return lastText
  const text = `${date.toISOString().slice(0, 19)}Z`
  lastMs = ms
  lastText = text
  return text
}
