// Addressing: virtual-host by the Host, path-style only for an IP or localhost, SecondLevelDomainForbidden for path-style to aliyuncs.com; listing order and pagination.
import { describe, expect, it } from 'vitest'
import { parseEmulatorConfig } from '../../../../src/emulator/config.ts'
import { DEFAULT_EMULATOR_CONFIG } from '../../../../src/emulator/default-config.ts'
import { OssError } from '../../../../src/emulator/oss/errors.ts'
import { listNames } from '../../../../src/emulator/oss/listing.ts'
import { parseTarget } from '../../../../src/emulator/oss/request.ts'
import { resolveTarget } from '../../../../src/emulator/oss/routing.ts'

const config = parseEmulatorConfig(DEFAULT_EMULATOR_CONFIG)
const aliHost = 'examplebucket.oss-cn-hangzhou.aliyuncs.com'

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err instanceof OssError ? err.code : 'thrown'
  }
}

describe('OSS routing', () => {
  it.each([
    ['/users/a.txt', aliHost, 'examplebucket', null, 'users/a.txt', 'virtual-host'],
    ['/', aliHost, 'examplebucket', null, null, 'virtual-host'],
    // The Host decides: a virtual-host key may start with a bucket's name.
    [
      '/examplebucket/users/a.txt',
      aliHost,
      'examplebucket',
      null,
      'examplebucket/users/a.txt',
      'virtual-host',
    ],
    [
      '/users/a.txt',
      'EXAMPLEBUCKET.OSS-CN-HANGZHOU.ALIYUNCS.COM:443',
      'examplebucket',
      null,
      'users/a.txt',
      'virtual-host',
    ],
    [
      '/users/a.txt',
      'examplebucket.oss-cn-hangzhou-internal.aliyuncs.com',
      'examplebucket',
      null,
      'users/a.txt',
      'virtual-host',
    ],
    ['/users/a.txt', 'examplebucket.localhost:9', 'examplebucket', null, 'users/a.txt', 'virtual-host'],
    [
      '/dir1/x',
      'ap-01-ossalias.oss-cn-hangzhou.aliyuncs.com',
      'ap-01-ossalias',
      'ap-01',
      'dir1/x',
      'virtual-host',
    ],
    // Path-style: a dev convenience for an IP or localhost Host only.
    ['/examplebucket', '127.0.0.1:9', 'examplebucket', null, null, 'path'],
    ['/examplebucket/', '127.0.0.1:9', 'examplebucket', null, null, 'path'],
    ['/examplebucket/users/a.txt', 'localhost:9', 'examplebucket', null, 'users/a.txt', 'path'],
    ['/examplebucket/users/a.txt', '[::1]:9', 'examplebucket', null, 'users/a.txt', 'path'],
    ['/ap-01-ossalias/dir1/x', '127.0.0.1:9', 'ap-01-ossalias', 'ap-01', 'dir1/x', 'path'],
  ])(
    'when %s arrives with Host %s, then it addresses %s (access point %s), key %s, %s-style',
    (path, host, name, ap, key, style) => {
      const target = resolveTarget(config, path, host)
      expect(target).toMatchObject({ name, key, style })
      expect(target?.accessPoint?.name ?? null).toBe(ap)
      expect(target?.bucket.name).toBe('examplebucket')
    },
  )

  it('when the Host names partnerbucket and the path starts with examplebucket, then partnerbucket is addressed', () => {
    const target = resolveTarget(config, '/examplebucket/x', 'partnerbucket.oss-cn-hangzhou.aliyuncs.com')
    expect(target).toMatchObject({ name: 'partnerbucket', key: 'examplebucket/x', style: 'virtual-host' })
  })

  it.each([
    ['oss-cn-hangzhou.aliyuncs.com'],
    ['oss-cn-hangzhou.aliyuncs.com:8443'],
    ['oss-accelerate.aliyuncs.com'],
  ])('when a path-style request arrives with Host %s, then 403 SecondLevelDomainForbidden', (host) => {
    expect(codeOf(() => resolveTarget(config, '/examplebucket/users/a.txt', host))).toBe(
      'SecondLevelDomainForbidden',
    )
    expect(new OssError('SecondLevelDomainForbidden')).toMatchObject({
      status: 403,
      message: 'Please use virtual hosted style to access.',
    })
  })

  it('when the regional endpoint is asked for / (a service-level call), then no bucket is addressed', () => {
    expect(resolveTarget(config, '/', 'oss-cn-hangzhou.aliyuncs.com')).toBeNull()
  })

  it.each([
    ['/nosuchbucket/x', '127.0.0.1:9', 'NoSuchBucket'],
    ['/x', 'nosuchbucket.oss-cn-hangzhou.aliyuncs.com', 'NoSuchBucket'],
    ['/examplebucket//x', '127.0.0.1:9', 'InvalidObjectName'],
    // Only an IP or localhost takes path-style: another name's first label is the bucket.
    ['/examplebucket/x', 'emulator.internal:9000', 'NoSuchBucket'],
    [`/examplebucket/${'k'.repeat(1024)}`, '127.0.0.1:9', 'InvalidObjectName'],
  ])('when %s arrives with Host %s, then it is %s', (path, host, code) => {
    expect(codeOf(() => resolveTarget(config, path, host))).toBe(code)
  })

  it('when no bucket is named at all, then it is a service-level call (null)', () => {
    expect(resolveTarget(config, '/', '127.0.0.1:9')).toBeNull()
  })

  it.each([
    [
      '/examplebucket/a%20b%2Bc?uploads',
      { path: '/examplebucket/a b+c', query: [{ name: 'uploads', value: '', bare: true }] },
    ],
    [
      '/b/k?prefix=a+b&max-keys=1',
      {
        path: '/b/k',
        query: [
          { name: 'prefix', value: 'a+b', bare: false },
          { name: 'max-keys', value: '1', bare: false },
        ],
      },
    ],
  ])('when the target is %s, then it parses to %j (a plus stays a plus)', (url, parsed) => {
    expect(parseTarget(url)).toEqual(parsed)
  })

  it.each([
    ['/b/%E0%A4%A', 'InvalidURI'],
    ['/b/k?prefix=a&prefix=b', 'InvalidArgument'],
  ])('when the target is %s, then it is refused with %s', (url, code) => {
    expect(codeOf(() => parseTarget(url))).toBe(code)
  })
})

const names = [
  'a.txt',
  'users/alice/1',
  'users/alice/2',
  'users/alice/sub/3',
  'users/bob/1',
  'z',
  'users/alice/é',
]

describe('OSS listing', () => {
  it.each([
    [
      { prefix: 'users/alice/', delimiter: '', after: '', maxKeys: 100 },
      ['users/alice/1', 'users/alice/2', 'users/alice/sub/3', 'users/alice/é'],
      [],
      false,
      null,
    ],
    [
      { prefix: 'users/alice/', delimiter: '/', after: '', maxKeys: 100 },
      ['users/alice/1', 'users/alice/2', 'users/alice/é'],
      ['users/alice/sub/'],
      false,
      null,
    ],
    [{ prefix: '', delimiter: '/', after: '', maxKeys: 100 }, ['a.txt', 'z'], ['users/'], false, null],
    [
      { prefix: 'users/alice/', delimiter: '/', after: '', maxKeys: 1 },
      ['users/alice/1'],
      [],
      true,
      'users/alice/1',
    ],
    [
      { prefix: 'users/alice/', delimiter: '/', after: 'users/alice/2', maxKeys: 1 },
      [],
      ['users/alice/sub/'],
      true,
      'users/alice/sub/',
    ],
    [
      { prefix: 'users/alice/', delimiter: '/', after: 'users/alice/sub/', maxKeys: 5 },
      ['users/alice/é'],
      [],
      false,
      null,
    ],
    [{ prefix: 'users/', delimiter: '/', after: '', maxKeys: 0 }, [], [], true, null],
  ])(
    'when listing %j, then keys %j and prefixes %j, truncated %s, next %s',
    (query, keys, prefixes, truncated, next) => {
      expect(listNames(names, query)).toEqual({ keys, prefixes, truncated, next })
    },
  )
})
