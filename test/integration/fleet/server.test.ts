// Fleet mode through the app: audit source, /readyz and /metrics, two apps sharing the Redis at 127.0.0.1:6379.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Express } from 'express'
import { createClient } from 'redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { loadConfig } from '../../../src/config/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../../src/server.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { redisOrSkip } from '../../fixtures/redis.ts'
import { bareAppUsers, corpIssuer } from '../../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'

const available = await redisOrSkip(undefined, 'the fleet tests')

const PREFIX = `sts-vend-test:${process.pid}:${randomBytes(4).toString('hex')}:`
let dir: string
let keyFile: string
let issuer: TestIssuer
const opened: Adapters[] = []

const config = (redisUrl: string) =>
  loadConfig({
    server: { host: '127.0.0.1', port: 0, metrics: { unauthenticated: true } },
    limits: { store: 'memory' },
    fleet: { redisUrl, cacheKeyFile: keyFile, keyPrefix: PREFIX },
    issuers: [corpIssuer(issuer)],
    rules: [bareAppUsers({ oss: { access: 'read' } })],
  })

async function replica(redisUrl: string, sts = createRecordingSts()) {
  const { logger, lines } = createCapturingLogger('info')
  const adapters = await buildAdapters(config(redisUrl), logger, sts)
  opened.push(adapters)
  return { app: createApp(adapters.deps) as Express, lines, sts }
}

beforeAll(async () => {
  if (!available) return
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-fleet-'))
  keyFile = join(dir, 'cache-key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'))
  issuer = await startTestIssuer()
})
afterAll(async () => {
  if (!available) return
  for (const a of opened) await a.close()
  await issuer.close()
  rmSync(dir, { recursive: true, force: true })
  const admin = createClient({ url: 'redis://127.0.0.1:6379' })
  await admin.connect()
  for await (const keys of admin.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 500 })) {
    if (keys.length > 0) await admin.del(keys)
  }
  await admin.quit()
})

describe.skipIf(!available)('fleet mode in the app', () => {
  it('when a caller asks replica A then B then B again, then one AssumeRole is made and the audit lines say miss, fleet, local', async () => {
    const sts = createRecordingSts()
    const a = await replica('redis://127.0.0.1:6379', sts)
    const b = await replica('redis://127.0.0.1:6379', sts)
    const token = await issuer.sign({ sub: 'alice' })
    const keys: unknown[] = []
    for (const r of [a, b, b]) {
      const res = await request(r.app)
        .get('/v1/credentials?format=json')
        .set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      keys.push(res.body.accessKeyId)
    }
    expect(sts.calls).toHaveLength(1)
    expect(new Set(keys).size).toBe(1)
    const audit = [...a.lines, ...b.lines].filter((l) => l['event'] === 'credentials.issued')
    expect(audit.map((l) => [l['source'], l['cache']])).toEqual([
      ['miss', 'miss'],
      ['fleet', 'hit'],
      ['local', 'hit'],
    ])
    const metrics = await request(b.app).get('/metrics')
    expect(metrics.text).toContain('sts_vend_fleet_cache_requests_total{result="hit"} 1')
    expect(metrics.text).toContain('sts_vend_fleet_mode 1')
    const ready = await request(b.app).get('/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body.checks).toMatchObject({ fleet: 'ok' })
  })

  it('when the fleet Redis is unreachable at start, then /readyz is 503 and names it', async () => {
    const r = await replica('redis://127.0.0.1:1')
    const res = await request(r.app).get('/readyz')
    expect(res.status).toBe(503)
    expect(JSON.stringify(res.body)).toContain('fleet (fleet Redis unreachable)')
  })
})
