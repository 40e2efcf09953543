// The deny list's model, matcher and file store, and the credential cache's eviction it relies on.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createDenyMatcher,
  createFileDenyListStore,
  DenyListError,
  parseDenyList,
  parseTtl,
} from '../../../src/denylist/index.ts'
import { type CredentialCacheKey, createCredentialCache } from '../../../src/sts/index.ts'
import type { StsCredentials } from '../../../src/types.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('deny list file', () => {
  it('when the file is empty or absent, then the list is empty', async () => {
    expect(parseDenyList('')).toEqual([])
    expect(parseDenyList('  \n')).toEqual([])
    const dir = mkdtempSync(join(tmpdir(), 'deny-'))
    dirs.push(dir)
    expect(await createFileDenyListStore(join(dir, 'none.yaml')).list()).toEqual([])
  })

  it('when an entry has no selector, both selectors, a sub without issuer or an unknown key, then every problem is listed', () => {
    const text =
      '- { reason: x }\n- { issuer: corp, rule: r }\n- { sub: alice }\n- { issuer: corp, subject: a }\n'
    const error = (() => {
      try {
        parseDenyList(text)
      } catch (err) {
        return err as DenyListError
      }
      return null
    })()
    expect(error).toBeInstanceOf(DenyListError)
    expect(error?.problems.length).toBeGreaterThanOrEqual(4)
  })

  it('when entries are added and removed, then the file is rewritten whole (no temp file left) and a selector is replaced, not repeated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deny-'))
    dirs.push(dir)
    const store = createFileDenyListStore(join(dir, 'deny.yaml'))
    expect(await store.add({ issuer: 'corp', sub: 'alice' })).toBe('added')
    expect(await store.add({ issuer: 'corp', sub: 'alice', reason: 'again' })).toBe('replaced')
    expect(await store.add({ rule: 'admins' })).toBe('added')
    expect(await store.list()).toEqual([
      { issuer: 'corp', sub: 'alice', reason: 'again' },
      { rule: 'admins' },
    ])
    expect(await store.remove({ issuer: 'corp' })).toBe(false)
    expect(await store.remove({ issuer: 'corp', sub: 'alice' })).toBe(true)
    expect(parseDenyList(readFileSync(join(dir, 'deny.yaml'), 'utf8'))).toEqual([{ rule: 'admins' }])
    expect(readdirSync(dir)).toEqual(['deny.yaml'])
  })

  it('when the watched file changes to an invalid list, then onError gets the problems; a valid one reaches onChange', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deny-'))
    dirs.push(dir)
    const path = join(dir, 'deny.yaml')
    writeFileSync(path, '')
    const store = createFileDenyListStore(path, { intervalMs: 50 })
    const seen: unknown[] = []
    const watch = store.watch(
      (entries) => seen.push(entries),
      (err) => seen.push(err.problems),
    )
    try {
      writeFileSync(path, '- { sub: alice }\n')
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1)
      writeFileSync(path, '- { issuer: corp, sub: alice }\n')
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(2)
      expect(seen[1]).toEqual([{ issuer: 'corp', sub: 'alice' }])
    } finally {
      watch.close()
    }
  })
})

describe('deny matcher', () => {
  const now = new Date('2026-12-04T12:00:00Z')
  it('when entries name a subject, an issuer and a rule, then exactly those are denied, and expired entries deny nothing', () => {
    const m = createDenyMatcher([
      { issuer: 'corp', sub: 'alice' },
      { issuer: 'partner' },
      { rule: 'admins' },
      { issuer: 'corp', sub: 'old', expiresAt: '2026-12-04T11:59:59Z' },
    ])
    expect(m.caller('corp', 'alice', now)).not.toBeNull()
    expect(m.caller('corp', 'bob', now)).toBeNull()
    expect(m.caller('other', 'alice', now)).toBeNull()
    expect(m.caller('partner', 'anyone', now)).not.toBeNull()
    expect(m.caller('corp', 'old', now)).toBeNull()
    expect(m.rule('admins', now)).not.toBeNull()
    expect(m.rule('users', now)).toBeNull()
  })

  it('when a ttl is given, then 90s/30m/12h/7d parse and anything else is refused', () => {
    expect([parseTtl('90s'), parseTtl('30m'), parseTtl('12h'), parseTtl('7d')]).toEqual([
      90, 1800, 43200, 604800,
    ])
    for (const bad of ['12', '0h', '1w', '-1h', '400d', '1.5h'])
      expect(() => parseTtl(bad)).toThrow(RangeError)
  })
})

describe('credential cache eviction', () => {
  const creds = (id: string): StsCredentials => ({
    accessKeyId: id,
    accessKeySecret: 's',
    securityToken: 't',
    expiration: new Date(Date.now() + 3600_000),
    requestId: 'r',
  })
  const key = (subject: string, ruleId: string): CredentialCacheKey => ({
    issuerId: 'corp',
    subject,
    roleArn: 'acs:ram::1:role/r',
    sessionName: subject,
    policySha256: 'p',
    externalId: null,
    durationSeconds: 3600,
    ruleId,
  })

  it('when entries of one subject are evicted, then only hers are loaded again', async () => {
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 300 })
    await cache.getOrLoad(key('alice', 'a'), async () => creds('A1'))
    await cache.getOrLoad(key('bob', 'a'), async () => creds('B1'))
    expect(cache.evict((k) => k.subject === 'alice')).toBe(1)
    expect((await cache.getOrLoad(key('alice', 'a'), async () => creds('A2'))).credentials.accessKeyId).toBe(
      'A2',
    )
    expect((await cache.getOrLoad(key('bob', 'a'), async () => creds('B2'))).credentials.accessKeyId).toBe(
      'B1',
    )
  })

  it('when a load is in flight as its key is evicted, then its result is handed out but not cached', async () => {
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 300 })
    let release: (c: StsCredentials) => void = () => undefined
    const pending = cache.getOrLoad(key('alice', 'a'), () => new Promise((r) => (release = r)))
    await Promise.resolve()
    cache.evict((k) => k.ruleId === 'a')
    release(creds('A1'))
    expect((await pending).credentials.accessKeyId).toBe('A1')
    expect((await cache.getOrLoad(key('alice', 'a'), async () => creds('A2'))).credentials.accessKeyId).toBe(
      'A2',
    )
  })
})
