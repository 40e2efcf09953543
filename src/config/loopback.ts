// Which hosts count as loopback: the only place plain http is accepted (tests and dev).

/** True for localhost, 127.0.0.0/8 and ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h)
  return m?.slice(1).every((o) => Number(o) <= 255) === true
}

/** The host part of `host[:port]` or `[v6]:port`. */
export function hostOf(endpoint: string): string {
  if (endpoint.startsWith('[')) return endpoint.slice(0, endpoint.indexOf(']') + 1)
  const colon = endpoint.lastIndexOf(':')
  return colon === -1 ? endpoint : endpoint.slice(0, colon)
}
