// The one timestamp form every Alibaba client reads: UTC YYYY-MM-DDTHH:mm:ssZ, no milliseconds.

/** Formats a Date as `YYYY-MM-DDTHH:mm:ssZ` (Alibaba SDKs reject milliseconds and offsets). */
export function formatExpiration(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`
}
