// Alibaba identity logins are single-use across the fleet: two replicas share one seen-nonce store in Redis.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleetNonceStore } from '../../../src/fleet/nonce-store.ts'
import { connectFleetRedis, type FleetRedis } from '../../../src/fleet/redis.ts'
import { redisOrSkip } from '../../fixtures/redis.ts'

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const PREFIX = `sts-vend-test:nonce:${randomUUID()}:`
const available = await redisOrSkip(REDIS_URL)
let redis: FleetRedis

beforeAll(async () => {
  if (available) redis = await connectFleetRedis({ url: REDIS_URL })
})
afterAll(async () => {
  if (!available) return
  const keys = (await redis.send(['KEYS', `${PREFIX}*`])) as string[]
  if (keys.length > 0) await redis.send(['DEL', ...keys])
  await redis.close()
})

describe.skipIf(!available)('the fleet seen-nonce store', () => {
  it('when replica A accepts a login, then replica B refuses the same nonce, and Redis holds no AccessKeyId in clear', async () => {
    const a = createFleetNonceStore({ redis, prefix: PREFIX })
    const b = createFleetNonceStore({ redis, prefix: PREFIX })
    const key = 'alicloud:LTAIpartnerUserKey01:6f1c2d'
    expect(await a.claim(key, 60_000)).toBe(true)
    expect(await b.claim(key, 60_000)).toBe(false)
    expect(await a.claim(key, 60_000)).toBe(false)
    expect(await b.claim(`${key}x`, 60_000)).toBe(true)
    const keys = (await redis.send(['KEYS', `${PREFIX}*`])) as string[]
    expect(keys).toHaveLength(2)
    for (const k of keys) expect(k).not.toContain('LTAI')
    const ttl = (await redis.send(['PTTL', keys[0] ?? ''])) as number
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('when Redis does not answer, then the claim rejects (the login fails closed)', async () => {
    const down = createFleetNonceStore({
      redis: {
        send: () => Promise.reject(new Error('down')),
        close: async () => {},
      } as unknown as FleetRedis,
      prefix: PREFIX,
    })
    await expect(down.claim('k', 1000)).rejects.toThrow()
  })
})
