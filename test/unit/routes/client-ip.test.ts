// clientIpOf/requestIp: express's req.ip read once per request; IPv4-mapped IPv6 shown as IPv4.
import type { Request } from 'express'
import { describe, expect, it } from 'vitest'
import { clientIpOf, requestIp } from '../../../src/routes/middleware/client-ip.ts'

/** A request whose `ip` getter counts its reads, as express's proxy-addr getter would be run. */
function request(ip: string | undefined) {
  let reads = 0
  const req = Object.defineProperty({}, 'ip', {
    get() {
      reads += 1
      return ip
    },
  }) as Request
  return { req, reads: () => reads }
}

describe('client IP', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['2001:db8::1', '2001:db8::1'],
    [undefined, ''],
  ])('when req.ip is %s, then the client IP is "%s"', (ip, expected) => {
    expect(clientIpOf(request(ip).req)).toBe(expected)
  })

  it('when the IP is asked for several times, then req.ip is read once', () => {
    const r = request('192.0.2.7')
    expect(requestIp(r.req)).toBe('192.0.2.7')
    expect(clientIpOf(r.req)).toBe('192.0.2.7')
    expect(requestIp(r.req)).toBe('192.0.2.7')
    expect(r.reads()).toBe(1)
  })
})
