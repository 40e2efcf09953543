import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { buildAdapters } from '../../../src/server.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { baselineConfig } from './harness.ts'

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

async function redisReachable(): Promise<boolean> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    // Start from clean counters: the limiter keys of earlier runs would skew the counts. Only the
    // limiter's own keys: other files running now keep theirs under other prefixes.
    for (const match of ['sts-vend:ip:*', 'sts-vend:sub:*'])
      for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys)
      }
    await client.quit()
    return true
  } catch {
    return false
  }
}

const reachable = await redisReachable()
if (!reachable) {
  if (process.env['REQUIRE_REDIS'] === '1')
    throw new Error(`REQUIRE_REDIS=1 but Redis at ${REDIS_URL} is unreachable`)
  console.warn(
    `[skip] Redis at ${REDIS_URL} is unreachable: the shared rate-limit tests are skipped (set REQUIRE_REDIS=1 to fail instead)`,
  )
}

async function instance(issuer: TestIssuer, redisUrl: string, perSubject = 4) {
  const config = baselineConfig(issuer, (raw) => {
    raw['limits'] = { store: 'redis', redisUrl, perSubject: { limit: perSubject, windowSeconds: 60 } }
  })
  const { logger } = createCapturingLogger('info')
  const adapters = await buildAdapters(config, logger, createRecordingSts())
  return { app: createApp(adapters.deps), close: adapters.close }
}

describe.skipIf(!reachable)('rate limits shared through Redis', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await startTestIssuer()
  })
  afterAll(async () => {
    await issuer.close()
  })

  it('when two app instances share one Redis, then their combined count trips the per-subject limit', async () => {
    const a = await instance(issuer, REDIS_URL)
    const b = await instance(issuer, REDIS_URL)
    try {
      const token = await issuer.sign({ sub: `shared-${randomUUID()}`, groups: ['photo-app'] })
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) {
        const app = i % 2 === 0 ? a.app : b.app
        statuses.push(
          (await request(app).post('/v1/credentials').set('Authorization', `Bearer ${token}`)).status,
        )
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('rate limits with Redis down', () => {
  it('when the Redis store is unreachable, then requests fail closed with 503, never unlimited', async () => {
    const issuer = await startTestIssuer()
    const down = await instance(issuer, 'redis://127.0.0.1:9')
    try {
      const token = await issuer.sign({ sub: 'alice', groups: ['photo-app'] })
      const res = await request(down.app).post('/v1/credentials').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(503)
      expect(res.body.error).toBe('upstream_unavailable')
      expect((await request(down.app).get('/healthz')).status).toBe(200)
    } finally {
      await down.close()
      await issuer.close()
    }
  })
})
