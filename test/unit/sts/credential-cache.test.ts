import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { UpstreamError, UpstreamUnavailable } from '../../../src/errors.ts'
import {
  type CredentialCacheKey,
  cacheKeyString,
  createCredentialCache,
} from '../../../src/sts/credential-cache.ts'
import { createStsService } from '../../../src/sts/sts-service.ts'
import type { AssumeRoleInput, StsClient, StsCredentials } from '../../../src/types.ts'

const policy = '{"Version":"1","Statement":[]}'
const input: AssumeRoleInput = {
  roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
  roleSessionName: 'app-alice',
  policy,
  durationSeconds: 900,
}
const key: CredentialCacheKey = {
  issuerId: 'corp',
  subject: 'alice',
  roleArn: input.roleArn,
  sessionName: input.roleSessionName,
  policySha256: createHash('sha256').update(policy).digest('hex'),
  externalId: null,
  durationSeconds: 900,
}

function clock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start
  return { now: () => new Date(t), advance: (s: number) => (t += s * 1000) }
}

function credentialsAt(now: Date, seconds: number, id = 1): StsCredentials {
  return {
    accessKeyId: `STS.key${id}`,
    accessKeySecret: `secret${id}`,
    securityToken: `token${id}`,
    expiration: new Date(now.getTime() + seconds * 1000),
    requestId: `RID-${id}`,
  }
}

describe('credential cache', () => {
  it('when 100 identical requests arrive together, then exactly one load runs and all get its credentials', async () => {
    const c = clock()
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 300, now: c.now })
    let loads = 0
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const load = async () => {
      loads += 1
      await gate
      return credentialsAt(c.now(), 900)
    }
    const all = Promise.all(Array.from({ length: 100 }, () => cache.getOrLoad(key, load)))
    release()
    const results = await all
    expect(loads).toBe(1)
    expect(new Set(results.map((r) => r.credentials.accessKeyId)).size).toBe(1)
    expect(results.filter((r) => r.cache === 'miss')).toHaveLength(1)
    expect(cache.stats()).toMatchObject({ misses: 1, joined: 99, hits: 0, size: 1 })
  })

  it.each([
    ['more than minRemainingSeconds left', 'hit', 1, 599],
    ['exactly minRemainingSeconds left', 'miss', 2, 600],
    ['less than minRemainingSeconds left', 'miss', 2, 601],
  ])('when an entry has %s, then the answer is a %s (%i loads)', async (_, cache, loads, elapsed) => {
    const c = clock()
    const store = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 300, now: c.now })
    let n = 0
    const load = async () => credentialsAt(c.now(), 900, ++n)
    await store.getOrLoad(key, load)
    c.advance(elapsed)
    const second = await store.getOrLoad(key, load)
    expect(second.cache).toBe(cache)
    expect(n).toBe(loads)
  })

  it('when a load fails, then every joined caller gets the error, nothing is cached and the next call loads again', async () => {
    const c = clock()
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 300, now: c.now })
    let n = 0
    const failing = async () => {
      n += 1
      throw new UpstreamUnavailable(1)
    }
    const results = await Promise.allSettled([cache.getOrLoad(key, failing), cache.getOrLoad(key, failing)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(n).toBe(1)
    expect(cache.stats()).toMatchObject({ size: 0, failures: 1 })
    const ok = await cache.getOrLoad(key, async () => credentialsAt(c.now(), 900))
    expect(ok.cache).toBe('miss')
  })

  it('when a load throws synchronously, then the key is not left in flight', async () => {
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 0 })
    const sync = (() => {
      throw new Error('sync')
    }) as () => Promise<StsCredentials>
    await expect(cache.getOrLoad(key, sync)).rejects.toThrow('sync')
    const ok = await cache.getOrLoad(key, async () => credentialsAt(new Date(), 900))
    expect(ok.cache).toBe('miss')
  })

  it.each<[string, Partial<CredentialCacheKey>]>([
    ['another subject', { subject: 'bob' }],
    ['another issuer with the same subject', { issuerId: 'partner' }],
    ['another policy', { policySha256: 'f'.repeat(64) }],
    ['another external id', { externalId: 'x' }],
    ['another duration', { durationSeconds: 3600 }],
    ['another session name', { sessionName: 'app-bob' }],
    ['another role', { roleArn: 'acs:ram::1000000000000001:role/oss-browser' }],
  ])('when the key differs by %s, then credentials are not shared', async (_, change) => {
    const cache = createCredentialCache({ maxEntries: 10, minRemainingSeconds: 0 })
    let n = 0
    const load = async () => credentialsAt(new Date(), 900, ++n)
    const a = await cache.getOrLoad(key, load)
    const b = await cache.getOrLoad({ ...key, ...change }, load)
    expect(b.credentials.accessKeyId).not.toBe(a.credentials.accessKeyId)
  })

  it('when fields are joined, then no two different keys produce one string', () => {
    expect(cacheKeyString({ ...key, issuerId: 'a","b', subject: 'c' })).not.toBe(
      cacheKeyString({ ...key, issuerId: 'a', subject: 'b","c' }),
    )
  })

  it('when more than maxEntries keys are cached, then the least recently used is evicted', async () => {
    const cache = createCredentialCache({ maxEntries: 2, minRemainingSeconds: 0 })
    let n = 0
    const load = async () => credentialsAt(new Date(), 900, ++n)
    for (const subject of ['a', 'b', 'c']) await cache.getOrLoad({ ...key, subject }, load)
    expect(cache.stats().size).toBe(2)
    expect((await cache.getOrLoad({ ...key, subject: 'a' }, load)).cache).toBe('miss')
    expect((await cache.getOrLoad({ ...key, subject: 'c' }, load)).cache).toBe('hit')
  })
})

describe('sts service', () => {
  function recordingClient(make: (input: AssumeRoleInput) => StsCredentials): StsClient & { calls: number } {
    const client = {
      calls: 0,
      async assumeRole(i: AssumeRoleInput) {
        client.calls += 1
        return make(i)
      },
      getCallerIdentity: () => Promise.reject(new Error('not called')),
      async checkIdentity() {},
    }
    return client
  }

  it('when the same key is issued twice, then the second is a hit and STS is called once', async () => {
    const client = recordingClient(() => credentialsAt(new Date(), 900))
    const service = createStsService({ client, cache: { maxEntries: 10, minRemainingSeconds: 300 } })
    expect((await service.issue(key, input)).cache).toBe('miss')
    expect((await service.issue(key, input)).cache).toBe('hit')
    expect(client.calls).toBe(1)
    expect(service.stats()).toMatchObject({ hits: 1, misses: 1 })
  })

  it('when STS returns credentials with minRemainingSeconds or less left, then upstream_error and nothing is cached', async () => {
    const client = recordingClient(() => credentialsAt(new Date(), 200))
    const service = createStsService({ client, cache: { maxEntries: 10, minRemainingSeconds: 300 } })
    await expect(service.issue(key, input)).rejects.toBeInstanceOf(UpstreamError)
    await expect(service.issue(key, input)).rejects.toMatchObject({ code: 'upstream_error' })
    expect(client.calls).toBe(2)
  })

  it.each<[string, Partial<CredentialCacheKey>]>([
    ['the role', { roleArn: 'acs:ram::1:role/other' }],
    ['the session name', { sessionName: 'x' }],
    ['the policy hash', { policySha256: '0'.repeat(64) }],
    ['the external id', { externalId: 'ext' }],
    ['the duration', { durationSeconds: 3600 }],
  ])('when the key does not match the input in %s, then TypeError and no STS call', async (_, change) => {
    const client = recordingClient(() => credentialsAt(new Date(), 900))
    const service = createStsService({ client, cache: { maxEntries: 10, minRemainingSeconds: 0 } })
    await expect(service.issue({ ...key, ...change }, input)).rejects.toBeInstanceOf(TypeError)
    expect(client.calls).toBe(0)
  })
})
