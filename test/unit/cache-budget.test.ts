// cache.maxMemoryMiB (issue 22): every per-caller cache stays within its share of one budget, evicts the
// least recently used first, answers correctly after eviction, and the per-entry estimates match the heap.
import { createHash, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { VerifiedTokenCache, verifiedEntryBytes } from '../../src/auth/verified-cache.ts'
import { BUDGET_SHARES, cacheBudgets, stringBytes } from '../../src/cache-budget.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createMemoryIssuedIndex, type IssuedEntry } from '../../src/services/issued-index.ts'
import {
  type CredentialCacheKey,
  createCredentialCache,
  credentialEntryBytes,
} from '../../src/sts/credential-cache.ts'
import type { Caller, StsCredentials } from '../../src/types.ts'
import { appUsers, configDoc } from '../fixtures/rules.ts'

const NOW = new Date('2026-12-04T10:00:00Z')
const now = () => NOW
const ROLE = 'acs:ram::1000000000000001:role/oss-app-user'

function keyOf(subject: string): CredentialCacheKey {
  return {
    issuerId: 'corp',
    subject,
    roleArn: ROLE,
    sessionName: `app-${subject}`,
    policySha256: createHash('sha256').update(subject).digest('hex'),
    externalId: null,
    durationSeconds: 3600,
    ruleId: 'app-users',
  }
}

/** Credentials shaped like STS's: a 400-character security token, unique strings. */
function credentialsFor(subject: string): StsCredentials {
  return {
    accessKeyId: `STS.${randomBytes(12).toString('hex')}`,
    accessKeySecret: randomBytes(22).toString('base64'),
    securityToken: `CAIS${randomBytes(300).toString('base64')}`,
    expiration: new Date(NOW.getTime() + 3600_000),
    requestId: `${subject}-${randomBytes(12).toString('hex')}`.slice(0, 36),
  }
}

function callerOf(subject: string): Caller {
  return Object.freeze({
    issuerId: 'corp',
    issuer: 'https://id.example.test/',
    subject,
    claims: Object.freeze({ sub: subject, aud: 'sts-vend', exp: 1_900_000_000, groups: ['photo-app'] }),
  })
}

/** heapUsed after a full collection (gc exposed for this process only, as a test may). */
function settledHeap(): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe('cacheBudgets', () => {
  it('when the budget is split, then the shares add up to at most the budget and none is empty', () => {
    const b = cacheBudgets(64)
    expect(b.verifiedTokens + b.credentials + b.issuedIndex).toBeLessThanOrEqual(64 * 1024 * 1024)
    expect(Math.min(b.verifiedTokens, b.credentials, b.issuedIndex)).toBeGreaterThan(0)
    expect(Object.values(BUDGET_SHARES).reduce((a, v) => a + v, 0)).toBeCloseTo(1)
    expect(() => cacheBudgets(0)).toThrow(TypeError)
  })

  it('when cache.maxMemoryMiB is not set, then it is 64; a non-positive value is refused', () => {
    const base = configDoc([appUsers()])
    expect(loadConfig(base).cache.maxMemoryMiB).toBe(64)
    expect(loadConfig({ ...base, cache: { maxMemoryMiB: 16 } }).cache.maxMemoryMiB).toBe(16)
    expect(() => loadConfig({ ...base, cache: { maxMemoryMiB: 0 } })).toThrow(/cache\.maxMemoryMiB/)
  })

  it('when a string is measured, then one-byte strings cost their length and others two bytes a character', () => {
    expect(stringBytes('x'.repeat(100))).toBe(120)
    expect(stringBytes('é'.repeat(100))).toBe(120)
    expect(stringBytes('漢'.repeat(100))).toBe(216)
  })
})

describe('the credential cache under a byte budget', () => {
  it('when filled past its budget, then it stays within it, evicting the least recently used first', async () => {
    const perEntry = credentialEntryBytes({ ...keyOf('u0'), credentials: credentialsFor('u0') })
    const maxBytes = perEntry * 20
    const cache = createCredentialCache({ maxEntries: 1000, maxBytes, minRemainingSeconds: 300, now })
    const issued = new Map<string, StsCredentials>()
    const load = (subject: string) => async () => {
      const c = credentialsFor(subject)
      issued.set(subject, c)
      return c
    }
    for (let i = 0; i < 100; i++) {
      await cache.getOrLoad(keyOf(`u${i}`), load(`u${i}`))
      // u0 is used again after every new caller: it is never the least recently used.
      expect((await cache.getOrLoad(keyOf('u0'), load('u0'))).cache).toBe('hit')
      expect(cache.stats().bytes).toBeLessThanOrEqual(maxBytes)
    }
    expect(cache.stats().size).toBeLessThan(30)
    expect((await cache.getOrLoad(keyOf('u99'), load('u99'))).cache).toBe('hit')
    // u1 went long ago: a new load (a new AssumeRole) for u1, and u1's own credentials, never another's.
    const again = await cache.getOrLoad(keyOf('u1'), load('u1'))
    expect(again.cache).toBe('miss')
    expect(again.credentials).toBe(issued.get('u1'))
  })

  it('when 5,000 entries are held, then the estimate is within a factor of 1.5 of the heap they take', async () => {
    const cache = createCredentialCache({ maxEntries: 10_000, minRemainingSeconds: 300, now })
    const keys = Array.from({ length: 5000 }, (_, i) => keyOf(`subject-${i}`))
    const before = settledHeap()
    let estimate = 0
    for (const key of keys) {
      const credentials = credentialsFor(key.subject)
      estimate += credentialEntryBytes({ ...key, credentials })
      await cache.getOrLoad(key, async () => credentials)
    }
    // The keys' strings (subject, session name, policy hash) belong to the callers' grants, not the cache.
    const used = settledHeap() - before
    expect(cache.stats().size).toBe(5000)
    expect(used / estimate).toBeGreaterThan(1 / 1.5)
    expect(used / estimate).toBeLessThan(1.5)
  })
})

describe('the verified-token cache under a byte budget', () => {
  it('when filled past its budget, then its estimated size stays within it and the recent callers stay', () => {
    const maxBytes = verifiedEntryBytes(callerOf('u100')) * 20
    const cache = new VerifiedTokenCache(1000, now, maxBytes)
    for (let i = 0; i < 200; i++) {
      cache.set(`token-${i}`, callerOf(`u${i}`), NOW.getTime() + 60_000)
      expect(cache.get('token-0')?.subject).toBe('u0')
      expect(cache.calculatedSize).toBeLessThanOrEqual(maxBytes)
    }
    expect(cache.size).toBeLessThanOrEqual(21)
    expect(cache.size).toBeGreaterThanOrEqual(19)
    expect(cache.get('token-199')?.subject).toBe('u199')
    expect(cache.get('token-1')).toBeUndefined()
  })
})

describe('the issued-credential index under a byte budget', () => {
  function entry(i: number): IssuedEntry {
    const subject = `u${i}`
    const policy = `{"Version":"1","Statement":[{"Resource":["acs:oss:*:1:examplebucket/users/${subject}/*"]}]}`
    return {
      accessKeyId: `STS.${i}`,
      issuer: 'https://id.example.test/',
      subject,
      rule: 'app-users',
      target: { bucket: 'examplebucket', accessPoint: null, region: 'cn-hangzhou', account: '1' },
      prefix: `users/${subject}/`,
      access: 'read-write',
      policy,
      policySha256: createHash('sha256').update(policy).digest('hex'),
      expiration: new Date(NOW.getTime() + 3600_000),
    }
  }

  it('when filled past its budget, then the oldest entries go and the newest are found', async () => {
    // An entry is estimated at 200 to 400 bytes: a budget of 8,000 holds 20 to 40 of the 200 recorded.
    const index = createMemoryIssuedIndex({ maxEntries: 1000, maxBytes: 8000, now })
    for (let i = 0; i < 200; i++) await index.record(entry(i))
    expect(await index.find('STS.199')).toMatchObject({ subject: 'u199' })
    expect(await index.find('STS.0')).toBeNull()
    let kept = 0
    for (let i = 0; i < 200; i++) if (await index.find(`STS.${i}`)) kept += 1
    expect(kept).toBeLessThanOrEqual(40)
    expect(kept).toBeGreaterThanOrEqual(20)
    // What is found is exactly what was recorded, the Policy unpacked to the same string.
    expect(await index.find('STS.199')).toEqual(entry(199))
  })
})
