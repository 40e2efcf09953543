// fleet config: validation, the limits store default, and the cache key file refused when unusable.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'
import { loadCacheKey } from '../../../src/fleet/sealed-cache.ts'
import { appUsers, configDoc } from '../../fixtures/rules.ts'

const doc = (extra: Record<string, unknown>) => ({ ...configDoc([appUsers()]), ...extra })
const fleet = { redisUrl: 'redis://redis.internal:6379', cacheKeyFile: '/etc/sts-vend/cache-key' }

describe('fleet config', () => {
  it('when fleet is set without limits.store, then the rate limits use the fleet Redis and expectedReplicas defaults to 3', () => {
    const config = loadConfig(doc({ fleet }))
    expect(config.fleet).toEqual({ ...fleet, expectedReplicas: 3, keyPrefix: 'sts-vend:fleet:' })
    expect(config.limits.store).toBe('redis')
    expect(config.limits.redisUrl).toBe(fleet.redisUrl)
  })

  it('when limits.store is given, then fleet does not change it; without fleet the store stays memory', () => {
    expect(loadConfig(doc({ fleet, limits: { store: 'memory' } })).limits.store).toBe('memory')
    expect(loadConfig(doc({})).limits.store).toBe('memory')
    expect(loadConfig(doc({})).fleet).toBeUndefined()
  })

  it('when fleet misses a key, has a bad URL or an unknown key, then the config is refused with each path', () => {
    const error = (() => {
      try {
        loadConfig(doc({ fleet: { redisUrl: 'http://x', expectedReplicas: 0, extra: 1 } }))
      } catch (err) {
        return err as ConfigError
      }
      throw new Error('accepted')
    })()
    expect(error).toBeInstanceOf(ConfigError)
    const paths = error.problems.map((p) => p.path)
    expect(paths).toEqual(
      expect.arrayContaining(['fleet.redisUrl', 'fleet.cacheKeyFile', 'fleet.expectedReplicas', 'fleet']),
    )
  })
})

describe('cache key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-key-'))
  const file = (name: string, text: string) => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('when the file holds 32 bytes base64, then the key loads with an 8-hex key id', () => {
    const bytes = randomBytes(32)
    const key = loadCacheKey(file('good', `${bytes.toString('base64')}\n`))
    expect(key.key.equals(bytes)).toBe(true)
    expect(key.kid).toMatch(/^[0-9a-f]{8}$/)
  })

  it.each([
    ['missing', null],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['not base64', `${'!'.repeat(43)}=`],
  ])(
    'when the file is %s, then start-up is refused with a ConfigError that never quotes the content',
    (name, text) => {
      const path = text === null ? join(dir, 'absent') : file(name.replace(/ /g, '-'), text)
      let caught: unknown
      try {
        loadCacheKey(path)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(ConfigError)
      expect((caught as ConfigError).problems[0]?.path).toBe('fleet.cacheKeyFile')
      if (text !== null) expect((caught as Error).message).not.toContain(text)
    },
  )
})
