// Hosts: the host part of an endpoint, and which hosts, peers and Host headers count as loopback.
import { isIP } from 'node:net'

/**
 * The host part of `host[:port]`, `[v6]:port` or a bare IP address, without brackets: what isIP,
 * dns.lookup and isLoopbackHost take. A trailing `:port` is removed only when it is 1-5 digits.
 */
export function hostOf(endpoint: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(endpoint)
  if (bracketed) return bracketed[1] ?? ''
  if (isIP(endpoint) !== 0) return endpoint
  return endpoint.replace(/:\d{1,5}$/, '')
}

/** True for localhost, 127.0.0.0/8 and ::1 (with or without brackets): the only hosts plain http is accepted for. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h)
  return m?.slice(1).every((o) => Number(o) <= 255) === true
}

/** True for a socket remote address in 127.0.0.0/8 or ::1, including the IPv4-mapped form `::ffff:127.x.x.x`. */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (!address) return false
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address)
  const ip = mapped?.[1] ?? address
  return isIP(ip) !== 0 && isLoopbackHost(ip)
}

/**
 * True when a Host header names an IP literal or `localhost` (any port), or is absent (HTTP/1.0).
 * A browser led to a loopback server by DNS rebinding sends the attacker's host name here, so refusing
 * every other name keeps web pages from reading what a loopback server answers (tokens, credentials).
 */
export function isSafeHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true
  if (!/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return false
  let hostname: string
  try {
    hostname = new URL(`http://${host}`).hostname
  } catch {
    return false
  }
  const bare = hostname.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || isIP(bare) !== 0
}
