// Fleet mode against the real Redis at 127.0.0.1:6379: sealed cache, budget, cross-replica singleflight, fallback.
import { createHash, randomBytes } from 'node:crypto'
import { Registry } from 'prom-client'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, type Fleet } from '../../../src/fleet/fleet.ts'
import { withCallPriority } from '../../../src/fleet/priority.ts'
import { connectFleetRedis, type FleetRedis } from '../../../src/fleet/redis.ts'
import { createFleetBudget } from '../../../src/fleet/redis-budget.ts'
import { type CacheKey, createSealedCache } from '../../../src/fleet/sealed-cache.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { createStsService } from '../../../src/sts/index.ts'
import type { AssumeRoleInput, StsCredentials } from '../../../src/types.ts'
import { redisOrSkip } from '../../fixtures/redis.ts'
import { hasRedisServer, privateRedis } from '../../fixtures/redis-server.ts'

const available = await redisOrSkip(undefined, 'the fleet tests')

/** These fleet tests never ask who the service is. */
const unusedIdentity = () => Promise.reject(new Error('GetCallerIdentity is not used here'))

const REDIS_URL = 'redis://127.0.0.1:6379'
const RUN = `sts-vend-test:${process.pid}:${randomBytes(4).toString('hex')}:`
const key = (): CacheKey => ({ kid: 'a1b2c3d4', key: randomBytes(32) })
let admin: ReturnType<typeof createClient>
let redis: FleetRedis
let n = 0
const prefix = () => `${RUN}${++n}:`

beforeAll(async () => {
  if (!available) return
  admin = createClient({ url: REDIS_URL })
  await admin.connect()
  redis = await connectFleetRedis({ url: REDIS_URL, logger: createCapturingLogger().logger })
})
afterAll(async () => {
  if (!available) return
  for await (const keys of admin.scanIterator({ MATCH: `${RUN}*`, COUNT: 500 })) {
    if (keys.length > 0) await admin.del(keys)
  }
  await admin.quit()
  await redis.close()
})

const creds = (id: string, lifeSeconds = 3600): StsCredentials => ({
  accessKeyId: `STS.${id}`,
  accessKeySecret: `secret-${id}-${randomBytes(8).toString('hex')}`,
  securityToken: `token-${id}-${randomBytes(16).toString('hex')}`,
  expiration: new Date(Date.now() + lifeSeconds * 1000),
  requestId: `req-${id}`,
})
const grantKey = (subject: string) => ({
  issuerId: 'corp',
  subject,
  roleArn: 'acs:ram::1234567890123456:role/r',
  sessionName: `s-${subject}`,
  policySha256: createHash('sha256').update('p').digest('hex'),
  externalId: null,
  durationSeconds: 3600,
})
const input = (subject: string): AssumeRoleInput => ({
  roleArn: 'acs:ram::1234567890123456:role/r',
  roleSessionName: `s-${subject}`,
  policy: 'p',
  durationSeconds: 3600,
})

async function allKeysAndValues(match: string): Promise<string> {
  const out: string[] = []
  for await (const keys of admin.scanIterator({ MATCH: match, COUNT: 500 })) {
    for (const k of keys) {
      const type = await admin.type(k)
      const value =
        type === 'string'
          ? await admin.get(k)
          : type === 'zset'
            ? (await admin.zRange(k, 0, -1)).join(' ')
            : ''
      out.push(`${k}=${value}`)
    }
  }
  return out.join('\n')
}

describe.skipIf(!available)('sealed cache', () => {
  it('when credentials are stored, then Redis holds neither the secret, the token, the key id nor the grant in clear, and they open again', async () => {
    const p = prefix()
    const cache = createSealedCache({
      redis,
      cacheKey: key(),
      prefix: p,
      minRemainingSeconds: 300,
      logger: createCapturingLogger().logger,
    })
    const c = creds('AKID1')
    const hash = cache.hashOf(grantKey('alice'))
    await cache.put(hash, c)
    const dump = await allKeysAndValues(`${p}*`)
    expect(dump).not.toContain(c.accessKeySecret)
    expect(dump).not.toContain(c.securityToken)
    expect(dump).not.toContain('AKID1')
    expect(dump).not.toContain('alice')
    const ttl = await admin.pTTL(`${p}c:${hash}`)
    expect(ttl).toBeGreaterThan(3300 * 1000 - 5000)
    expect(ttl).toBeLessThanOrEqual(3300 * 1000)
    expect((await cache.get(hash)).credentials).toEqual(c)
  })

  it('when an entry is sealed under another key, or moved to another Redis key, then it is a miss, logged once per key id', async () => {
    const p = prefix()
    const { logger, lines } = createCapturingLogger()
    const writer = createSealedCache({
      redis,
      cacheKey: { kid: 'ffffffff', key: randomBytes(32) },
      prefix: p,
      minRemainingSeconds: 300,
      logger,
    })
    const reader = createSealedCache({ redis, cacheKey: key(), prefix: p, minRemainingSeconds: 300, logger })
    await writer.put('h1', creds('A'))
    await writer.put('h2', creds('B'))
    expect((await reader.get('h1')).credentials).toBeNull()
    expect((await reader.get('h2')).credentials).toBeNull()
    expect(lines.filter((l) => l['event'] === 'fleet.cache_unreadable')).toHaveLength(1)
    // Same key, but the sealed value copied under another grant's Redis key: the AAD refuses it.
    const k = key()
    const same = createSealedCache({ redis, cacheKey: k, prefix: p, minRemainingSeconds: 300, logger })
    await same.put('h3', creds('C'))
    await admin.set(`${p}c:h4`, (await admin.get(`${p}c:h3`)) as string)
    expect((await same.get('h3')).credentials?.accessKeyId).toBe('STS.C')
    expect((await same.get('h4')).credentials).toBeNull()
  })

  it('when a stored entry has minRemainingSeconds or less left on read, then it is not served, though Redis still has it', async () => {
    const p = prefix()
    let clock = Date.now()
    const cache = createSealedCache({
      redis,
      cacheKey: key(),
      prefix: p,
      minRemainingSeconds: 300,
      logger: createCapturingLogger().logger,
      now: () => new Date(clock),
    })
    await cache.put('h', creds('A', 900))
    expect((await cache.get('h')).credentials).not.toBeNull()
    clock += 601 * 1000
    expect(await admin.exists(`${p}c:h`)).toBe(1)
    expect(await cache.get('h')).toEqual({ credentials: null, refresh: true })
  })
})

describe.skipIf(!available)('fleet budget', () => {
  it('when 3 budgets share Redis with perSecond 10, then no 1-second window grants more than 10; a call that can wait gets a slot, the rest get 503 with Retry-After', async () => {
    const p = prefix()
    // A 500 ms guard (not the default 100): a Redis answer slowed by a loaded runner is still used, not
    // given up (which would cost a slot and push the caller past its wait); the window is then 1.5 s, so
    // a caller may wait up to 2 s.
    const budgets = [0, 1, 2].map(() =>
      createFleetBudget({ redis, prefix: p, perSecond: 10, refreshShare: 0, guardMs: 500, maxWaitMs: 2000 }),
    )
    const granted: number[] = []
    const batch = (at: number) =>
      new Promise((r) => setTimeout(r, at)).then(() =>
        Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            (budgets[i % 3] as (typeof budgets)[number]).acquire('new').then(() => granted.push(Date.now())),
          ),
        ),
      )
    const results = (await Promise.all([batch(0), batch(300), batch(600)])).flat()
    granted.sort((a, b) => a - b)
    for (let i = 10; i < granted.length; i += 1)
      expect((granted[i] ?? 0) - (granted[i - 10] ?? 0)).toBeGreaterThanOrEqual(1000)
    // The first ten at once, ten more after waiting for the window to move (under 2 s each).
    expect(granted.length).toBeGreaterThanOrEqual(20)
    const refused = results.filter((r) => r.status === 'rejected')
    expect(refused.length).toBe(30 - granted.length)
    for (const r of refused) {
      const reason = (r as PromiseRejectedResult).reason as {
        code: string
        status: number
        retryAfterSeconds: number
      }
      expect(reason).toMatchObject({ code: 'upstream_unavailable', status: 503 })
      expect(reason.retryAfterSeconds).toBeGreaterThanOrEqual(1)
    }
  })

  it('when a slot is answered later than the guard (a starved replica), then it is given up and a fresh one used', async () => {
    const p = prefix()
    let slow = 1
    const lagging = {
      ...redis,
      send: async (args: readonly (string | number)[]) => {
        const answer = await redis.send(args)
        if (slow-- > 0) await new Promise((r) => setTimeout(r, 1000))
        return answer
      },
    }
    // A 500 ms guard (not the default 100) so that a round trip of a loaded runner stays well inside it;
    // the lagging answer is twice the guard late (and within the 5 s the caller may wait).
    const budget = createFleetBudget({
      redis: lagging,
      prefix: p,
      perSecond: 10,
      guardMs: 500,
      maxWaitMs: 5000,
    })
    await budget.acquire('new')
    // Two slots spent in Redis, one call allowed.
    expect(await admin.zCard(`${p}budget`)).toBe(2)
  })

  it('when new callers used their share, then a refresh still gets a slot at once', async () => {
    const p = prefix()
    // The local clock stands still: a round trip slowed by a loaded runner is not a late answer (that is
    // the guard's own test above); the window itself runs on Redis's clock.
    const budget = createFleetBudget({ redis, prefix: p, perSecond: 10, maxWaitMs: 0, now: () => 0 })
    expect(budget.newCallerLimit).toBe(8)
    for (let i = 0; i < 8; i += 1) await budget.acquire('new')
    await expect(budget.acquire('new')).rejects.toMatchObject({ code: 'upstream_unavailable' })
    await budget.acquire('refresh')
    await budget.acquire('refresh')
    await expect(budget.acquire('refresh')).rejects.toMatchObject({ code: 'upstream_unavailable' })
  })
})

describe.skipIf(!available)('fleet', () => {
  const fleets: Fleet[] = []
  afterEach(async () => {
    for (const f of fleets.splice(0)) await f.close()
  })
  async function replica(p: string, cacheKey: CacheKey, calls: AssumeRoleInput[], delayMs = 50) {
    const { logger, lines } = createCapturingLogger()
    const own = await connectFleetRedis({ url: REDIS_URL, logger })
    const fleet = await createFleet({
      fleet: { redisUrl: REDIS_URL, cacheKeyFile: '-', expectedReplicas: 3, keyPrefix: p },
      maxCallsPerSecond: 50,
      minRemainingSeconds: 300,
      logger,
      redis: own,
      cacheKey,
    })
    fleets.push(fleet)
    const client = {
      async assumeRole(i: AssumeRoleInput) {
        await fleet.rateCap.acquire()
        calls.push(i)
        await new Promise((r) => setTimeout(r, delayMs))
        return creds(i.roleSessionName)
      },
      checkIdentity: async () => {},
      getCallerIdentity: unusedIdentity,
    }
    const sts = createStsService({
      client,
      cache: { maxEntries: 100, minRemainingSeconds: 300 },
      wrapCache: fleet.wrapCache,
    })
    return { fleet, sts, lines }
  }

  it('when 3 replicas miss the same grants at once, then each grant makes one AssumeRole and the others are fleet hits', async () => {
    const p = prefix()
    const k = key()
    const calls: AssumeRoleInput[] = []
    const replicas = await Promise.all([0, 1, 2].map(() => replica(p, k, calls)))
    const subjects = Array.from({ length: 20 }, (_, i) => `u${i}`)
    const answers = await Promise.all(
      subjects.flatMap((s) => replicas.map((r) => r.sts.issue(grantKey(s), input(s)))),
    )
    expect(calls).toHaveLength(20)
    expect(answers.filter((a) => a.source === 'miss')).toHaveLength(20)
    expect(answers.filter((a) => a.source === 'fleet')).toHaveLength(40)
    for (const s of subjects) {
      const ids = new Set(
        answers
          .filter((a) => a.credentials.accessKeyId === `STS.s-${s}`)
          .map((a) => a.credentials.securityToken),
      )
      expect(ids.size).toBe(1)
    }
    const again = await replicas[0]?.sts.issue(grantKey('u0'), input('u0'))
    expect(again?.source).toBe('local')
    expect(replicas.map((r) => r.fleet.mode())).toEqual(['shared', 'shared', 'shared'])
  })

  it('when a replica starts without Redis, then it is not ready and says why; it serves from its local cache with its local share', async () => {
    const { logger } = createCapturingLogger()
    const down = await connectFleetRedis({ url: 'redis://127.0.0.1:1', logger })
    const fleet = await createFleet({
      fleet: { redisUrl: 'redis://127.0.0.1:1', cacheKeyFile: '-', expectedReplicas: 3, keyPrefix: prefix() },
      maxCallsPerSecond: 6,
      minRemainingSeconds: 300,
      logger,
      redis: down,
      cacheKey: key(),
    })
    fleets.push(fleet)
    expect(await fleet.readiness.check()).toEqual({ ready: false, detail: 'fleet Redis unreachable' })
    const started = Date.now()
    for (let i = 0; i < 3; i += 1) await fleet.rateCap.acquire()
    // 6 / 3 replicas = 2 per second locally: the third waits about a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('when the lock holder is slow, then the waiting replica serves the entry it stores instead of calling STS', async () => {
    const p = prefix()
    const k = key()
    const calls: AssumeRoleInput[] = []
    const [a, b] = await Promise.all([replica(p, k, calls, 400), replica(p, k, calls, 400)])
    const [x, y] = await Promise.all([
      a?.sts.issue(grantKey('slow'), input('slow')),
      b?.sts.issue(grantKey('slow'), input('slow')),
    ])
    expect(calls).toHaveLength(1)
    expect([x?.source, y?.source].sort()).toEqual(['fleet', 'miss'])
  })

  it('when a refresh is due for a grant the fleet served, then its call runs with refresh priority', async () => {
    const p = prefix()
    const k = key()
    const seen: string[] = []
    const sealed = createSealedCache({
      redis,
      cacheKey: k,
      prefix: p,
      minRemainingSeconds: 300,
      logger: createCapturingLogger().logger,
    })
    const hash = sealed.hashOf(grantKey('r'))
    await sealed.put(hash, creds('old', 3600))
    await admin.del(`${p}c:${hash}`) // the entry's TTL ended; the marker stays
    const { fleet } = await replica(p, k, [])
    const { callPriority } = await import('../../../src/fleet/priority.ts')
    const local = createStsService({
      client: {
        assumeRole: async (i) => {
          seen.push(callPriority())
          return creds(i.roleSessionName)
        },
        checkIdentity: async () => {},
        getCallerIdentity: unusedIdentity,
      },
      cache: { maxEntries: 10, minRemainingSeconds: 300 },
      wrapCache: fleet.wrapCache,
    })
    await local.issue(grantKey('r'), input('r'))
    await local.issue(grantKey('n'), input('n'))
    expect(seen).toEqual(['refresh', 'new'])
    expect(await withCallPriority('refresh', async () => 'ok')).toBe('ok')
  })
})

describe.skipIf(!available || !hasRedisServer)('fleet without Redis for a while', () => {
  it('when Redis stops, then the replica falls back (log, metric), keeps issuing with its local cache and share; when Redis returns, it shares again within 10 s', async () => {
    const server = await privateRedis()
    await server.start()
    const { logger, lines } = createCapturingLogger()
    const registry = new Registry()
    const conn = await connectFleetRedis({ url: server.url, logger })
    const fleet = await createFleet({
      fleet: { redisUrl: server.url, cacheKeyFile: '-', expectedReplicas: 3, keyPrefix: prefix() },
      maxCallsPerSecond: 30,
      minRemainingSeconds: 300,
      logger,
      registry,
      redis: conn,
      cacheKey: key(),
    })
    try {
      const calls: string[] = []
      const sts = createStsService({
        client: {
          assumeRole: async (i) => {
            await fleet.rateCap.acquire()
            calls.push(i.roleSessionName)
            return creds(i.roleSessionName)
          },
          checkIdentity: async () => {},
          getCallerIdentity: unusedIdentity,
        },
        cache: { maxEntries: 100, minRemainingSeconds: 300 },
        wrapCache: fleet.wrapCache,
      })
      expect((await sts.issue(grantKey('a'), input('a'))).source).toBe('miss')
      await server.stop()
      expect((await sts.issue(grantKey('a'), input('a'))).source).toBe('local')
      // The first call after the loss finds Redis gone; local calls start one window later, so that they
      // never add to fleet slots still on their way to STS.
      const lostAt = Date.now()
      await expect(sts.issue(grantKey('b'), input('b'))).rejects.toMatchObject({
        code: 'upstream_unavailable',
      })
      // Falling back is at once when the client has seen the socket close, after a failed PING when not yet.
      const fallback = Date.now()
      while (fleet.mode() !== 'local' && Date.now() - fallback < 5000)
        await new Promise((r) => setTimeout(r, 20))
      expect(fleet.mode()).toBe('local')
      await new Promise((r) => setTimeout(r, 1200))
      expect((await sts.issue(grantKey('b'), input('b'))).source).toBe('miss')
      expect(Date.now() - lostAt).toBeGreaterThanOrEqual(1100)
      expect(lines.filter((l) => l['event'] === 'fleet.fallback')).toHaveLength(1)
      expect(await registry.getSingleMetricAsString('sts_vend_fleet_mode')).toMatch(/sts_vend_fleet_mode 2/)
      expect(await fleet.readiness.check()).toEqual({ ready: true })
      await server.start()
      const back = Date.now()
      while (fleet.mode() !== 'shared' && Date.now() - back < 10_000)
        await new Promise((r) => setTimeout(r, 100))
      expect(fleet.mode()).toBe('shared')
      expect(lines.filter((l) => l['event'] === 'fleet.shared').length).toBeGreaterThanOrEqual(2)
      expect((await sts.issue(grantKey('c'), input('c'))).source).toBe('miss')
      expect(calls).toEqual(['s-a', 's-b', 's-c'])
    } finally {
      await fleet.close()
      await server.stop()
    }
  }, 20_000)
})

describe.skipIf(!available || !hasRedisServer)('fleet whose Redis comes up late', () => {
  it('when Redis is unreachable at start and comes up later, then the replica becomes ready and shares, on its own', async () => {
    const server = await privateRedis()
    const { logger } = createCapturingLogger()
    const conn = await connectFleetRedis({ url: server.url, logger })
    const fleet = await createFleet({
      fleet: { redisUrl: server.url, cacheKeyFile: '-', expectedReplicas: 3, keyPrefix: prefix() },
      maxCallsPerSecond: 30,
      minRemainingSeconds: 300,
      logger,
      redis: conn,
      cacheKey: key(),
    })
    try {
      expect(fleet.mode()).toBe('starting')
      expect((await fleet.readiness.check()).ready).toBe(false)
      await server.start()
      const started = Date.now()
      while (fleet.mode() !== 'shared' && Date.now() - started < 10_000)
        await new Promise((r) => setTimeout(r, 100))
      expect(fleet.mode(), `after ${Date.now() - started} ms, client ready: ${conn.isReady()}`).toBe('shared')
      expect(await fleet.readiness.check()).toEqual({ ready: true })
    } finally {
      await fleet.close()
      await server.stop()
    }
  }, 20_000)
})
