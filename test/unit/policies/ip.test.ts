import { describe, expect, it } from 'vitest'
import { cidrContains, formatIp, hostCidr, LONGEST_SOURCE_IP, parseIp } from '../../../src/policies/ip.ts'

describe('hostCidr', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7/32'],
    ['0.0.0.0', '0.0.0.0/32'],
    ['::ffff:203.0.113.1', '203.0.113.1/32'],
    ['::FFFF:127.0.0.1', '127.0.0.1/32'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1/128'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1/128'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1/128'],
    ['::1', '::1/128'],
    ['::', '::/128'],
    ['1::', '1::/128'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221/128'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', LONGEST_SOURCE_IP],
  ])('when the client address is %s, then the condition value is %s', (ip, cidr) => {
    expect(hostCidr(ip)).toBe(cidr)
  })

  it.each([
    '',
    'unknown',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4/32',
    '::1::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    'fe80::1%eth0',
    '[::1]',
    '12345::',
    '1.2.3.4::',
    ' 1.2.3.4',
  ])('when the client address is %j, then it is refused', (ip) => {
    expect(hostCidr(ip)).toBeNull()
  })

  it('when any canonical address is formatted, then it is never longer than the worst case', () => {
    expect(LONGEST_SOURCE_IP.length).toBe(43)
    expect(formatIp({ version: 6, bytes: new Uint8Array(16).fill(0xff) }).length + 4).toBe(43)
  })
})

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.0.2.1', '192.0.2.1', true],
    ['192.0.2.1', '192.0.2.2', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['10.0.0.0/8', '::ffff:10.1.1.1', true],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['10.0.0.0/8/1', '10.0.0.1', false],
    ['::/0', '10.0.0.1', false],
  ])('when %s is asked about %s, then it answers %s', (cidr, ip, expected) => {
    const parsed = parseIp(ip)
    expect(parsed).not.toBeNull()
    expect(cidrContains(cidr, parsed!)).toBe(expected)
  })
})
