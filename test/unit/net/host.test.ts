// The one hostOf and the loopback predicates in src/net/host.ts, and what config takes from them.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'
import { hostOf, isLoopbackHost, isLoopbackPeer, isSafeHostHeader } from '../../../src/net/host.ts'
import { validConfig } from '../config/valid-config.ts'

describe('hostOf', () => {
  it.each([
    ['sts.cn-hangzhou.aliyuncs.com', 'sts.cn-hangzhou.aliyuncs.com'],
    ['sts.cn-hangzhou.aliyuncs.com:443', 'sts.cn-hangzhou.aliyuncs.com'],
    ['127.0.0.1:4000', '127.0.0.1'],
    ['[::1]:4000', '::1'],
    ['[::1]', '::1'],
    ['[fe80::1]:65535', 'fe80::1'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
  ])('when the endpoint is %s, then the host is %s', (endpoint, host) => {
    expect(hostOf(endpoint)).toBe(host)
  })

  it('when the port is not 1-5 digits, then nothing is cut (the whole text is not a loopback host)', () => {
    expect(hostOf('localhost:http')).toBe('localhost:http')
    expect(isLoopbackHost(hostOf('localhost:http'))).toBe(false)
  })
})

describe('loopback predicates', () => {
  it('when a host is localhost, 127.0.0.0/8 or ::1, then it is loopback; anything else is not', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true)
    }
    for (const host of ['127.0.0.256', '128.0.0.1', '10.0.0.1', 'localhost.evil.com', '::2', '']) {
      expect(isLoopbackHost(host), host).toBe(false)
    }
  })

  it('when a peer address is loopback (also IPv4-mapped), then it is admitted; a name or remote address is not', () => {
    expect(isLoopbackPeer('127.0.0.1')).toBe(true)
    expect(isLoopbackPeer('::ffff:127.0.0.1')).toBe(true)
    expect(isLoopbackPeer('::1')).toBe(true)
    expect(isLoopbackPeer('localhost')).toBe(false)
    expect(isLoopbackPeer('::ffff:10.0.0.1')).toBe(false)
    expect(isLoopbackPeer(undefined)).toBe(false)
  })

  it('when a Host header names a DNS name other than localhost, then it is unsafe (DNS rebinding)', () => {
    for (const host of [undefined, 'localhost:8080', '127.0.0.1:1', '[::1]:9', '10.1.2.3']) {
      expect(isSafeHostHeader(host), String(host)).toBe(true)
    }
    for (const host of ['evil.example', 'evil.example:80', 'localhost.evil.example', 'a b', '']) {
      expect(isSafeHostHeader(host), host).toBe(false)
    }
  })
})

describe('sts.protocol http in a config', () => {
  const withSts = (endpoint: string) => ({ ...validConfig(), sts: { endpoint, protocol: 'http' } })

  it.each(['127.0.0.1:4000', '[::1]:4000', 'localhost'])(
    'when sts.endpoint is the loopback %s, then http is accepted',
    (endpoint) => {
      expect(loadConfig(withSts(endpoint)).sts.protocol).toBe('http')
    },
  )

  it('when sts.endpoint is a remote host with a port, then http is refused', () => {
    expect(() => loadConfig(withSts('sts.cn-hangzhou.aliyuncs.com:80'))).toThrow(ConfigError)
  })
})
