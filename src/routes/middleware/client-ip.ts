// The client address as express derives it from the socket and `trustProxyHops` (never a raw header).
import type { Request } from 'express'

/** The client IP, with IPv4-mapped IPv6 (`::ffff:1.2.3.4`) turned into plain IPv4; '' when unknown. */
export function clientIpOf(req: Request): string {
  const ip = req.ip ?? ''
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  return mapped?.[1] ?? ip
}
