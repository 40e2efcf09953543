// The client address as express derives it from the socket and `trustProxyHops` (never a raw header).
import type { Request } from 'express'

/** express's `req.ip` runs proxy-addr (X-Forwarded-For parsed into an array) on every read: read once. */
const IP = Symbol('sts-vend.ip')
type WithIp = Request & { [IP]?: string }

/** `req.ip` as express derives it, '' when unknown; worked out once per request. */
export function requestIp(req: Request): string {
  const memo = (req as WithIp)[IP]
  if (memo !== undefined) return memo
  const ip = req.ip ?? ''
  ;(req as WithIp)[IP] = ip
  return ip
}

/** The client IP, with IPv4-mapped IPv6 (`::ffff:1.2.3.4`) turned into plain IPv4; '' when unknown. */
export function clientIpOf(req: Request): string {
  const ip = requestIp(req)
  if (!ip.includes(':')) return ip
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  return mapped?.[1] ?? ip
}
