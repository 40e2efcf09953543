// Fleet mode's deny list and issued-credential index on the Redis at 127.0.0.1:6379 (issues 19 and 20):
// two apps share one key prefix; `deny add` through the CLI reaches both; a credential issued by one
// replica is explained by the other. Each test file uses its own prefix, deleted afterwards.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Express } from 'express'
import { createClient } from 'redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { denyCommand } from '../../../src/commands/deny.ts'
import { loadConfigFile } from '../../../src/config/index.ts'
import { createDenyMatcher, createFileDenyListStore } from '../../../src/denylist/index.ts'
import { createFleetDenyListStore, createRedisDenyListStore } from '../../../src/denylist/redis-store.ts'
import { UpstreamUnavailable } from '../../../src/errors.ts'
import { createFleetIssuedIndex } from '../../../src/fleet/issued-index.ts'
import { connectFleetRedis, type FleetRedis } from '../../../src/fleet/redis.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../../src/server.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { redisOrSkip } from '../../fixtures/redis.ts'
import { bareAppUsers, corpIssuer } from '../../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'

const available = await redisOrSkip(undefined, 'the fleet tests')

const REDIS_URL = 'redis://127.0.0.1:6379'
const PREFIX = `sts-vend-test:${process.pid}:${randomBytes(4).toString('hex')}:`
let dir: string
let configFile: string
let issuer: TestIssuer
let redis: FleetRedis
const opened: Adapters[] = []

function writeConfig(withFile: boolean, redisUrl = REDIS_URL): void {
  const keyFile = join(dir, 'cache-key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'))
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    limits: { store: 'memory' },
    fleet: { redisUrl, cacheKeyFile: keyFile, keyPrefix: PREFIX },
    ...(withFile ? { denylist: { file: 'deny.yaml' } } : {}),
    issuers: [corpIssuer(issuer)],
    rules: [bareAppUsers({ oss: { access: 'read' } })],
  }
  writeFileSync(configFile, JSON.stringify(config))
}

async function replica(sts = createRecordingSts()) {
  const { logger, lines } = createCapturingLogger('info')
  const adapters = await buildAdapters(loadConfigFile(configFile), logger, sts, { configPath: configFile })
  opened.push(adapters)
  return { app: createApp(adapters.deps) as Express, lines }
}

async function deny(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await denyCommand.run([...argv, '--config', configFile], {
    out: (t) => {
      out += t
    },
    err: (t) => {
      err += t
    },
    env: {},
  })
  return { code, out, err }
}

const vend = (app: Express, token: string) =>
  request(app).get('/v1/credentials?format=json').set('Authorization', `Bearer ${token}`)

/** Milliseconds until `app` answers `status` to `token` (polling every 50 ms, at most 5 s); -1 if never. */
async function msUntil(app: Express, token: string, status: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < 5000) {
    if ((await vend(app, token)).status === status) return Date.now() - start
    await new Promise((r) => setTimeout(r, 50))
  }
  return -1
}

beforeAll(async () => {
  if (!available) return
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-fleet-deny-'))
  configFile = join(dir, 'sts-vend.json')
  issuer = await startTestIssuer()
  redis = await connectFleetRedis({ url: REDIS_URL })
})
afterAll(async () => {
  if (!available) return
  for (const a of opened) await a.close()
  await redis.close()
  await issuer.close()
  rmSync(dir, { recursive: true, force: true })
  const admin = createClient({ url: REDIS_URL })
  await admin.connect()
  for await (const keys of admin.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 500 })) {
    if (keys.length > 0) await admin.del(keys)
  }
  await admin.quit()
})

describe.skipIf(!available)('the deny list in the fleet Redis', () => {
  it('when entries are added, replaced and removed, then list reads them back and watch reports each change', async () => {
    const prefix = `${PREFIX}store:`
    const store = createRedisDenyListStore({ redis, prefix, pollMs: 50 })
    const seen: number[] = []
    const watch = store.watch(
      (entries) => seen.push(entries.length),
      () => undefined,
    )
    try {
      expect(await store.list()).toEqual([])
      const alice = { issuer: 'corp', sub: 'alice', addedAt: '2026-01-01T00:00:00.000Z' }
      expect(await store.add(alice)).toBe('added')
      expect(await store.add({ rule: 'admins', reason: 'audit', addedAt: '2026-01-02T00:00:00.000Z' })).toBe(
        'added',
      )
      expect(await store.add({ ...alice, reason: 'left' })).toBe('replaced')
      expect(await store.list()).toEqual([
        { ...alice, reason: 'left' },
        { rule: 'admins', reason: 'audit', addedAt: '2026-01-02T00:00:00.000Z' },
      ])
      expect(await store.remove({ issuer: 'corp', sub: 'alice' })).toBe(true)
      expect(await store.remove({ issuer: 'corp', sub: 'alice' })).toBe(false)
      expect(await store.list()).toEqual([
        { rule: 'admins', reason: 'audit', addedAt: '2026-01-02T00:00:00.000Z' },
      ])
      const deadline = Date.now() + 2000
      while (seen.at(-1) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      expect(seen.at(-1)).toBe(1)
    } finally {
      watch.close()
    }
  })

  it('when file and Redis are combined, then an entry in either denies, add writes both, and remove clears both', async () => {
    const prefix = `${PREFIX}union:`
    const file = createFileDenyListStore(join(dir, 'union.yaml'))
    const shared = createRedisDenyListStore({ redis, prefix })
    const store = createFleetDenyListStore(file, shared)
    await file.add({ issuer: 'corp', sub: 'alice' })
    await shared.add({ rule: 'admins' })
    const matcher = createDenyMatcher(await store.list())
    expect(matcher.caller('corp', 'alice', new Date())).toEqual({ issuer: 'corp', sub: 'alice' })
    expect(matcher.rule('admins', new Date())).toEqual({ rule: 'admins' })
    expect(matcher.caller('corp', 'bob', new Date())).toBeNull()
    expect(await store.add({ issuer: 'corp', sub: 'bob' })).toBe('added')
    expect(await file.list()).toContainEqual({ issuer: 'corp', sub: 'bob' })
    expect(await shared.list()).toContainEqual({ issuer: 'corp', sub: 'bob' })
    expect(await store.remove({ issuer: 'corp', sub: 'alice' })).toBe(true)
    expect(await store.remove({ rule: 'admins' })).toBe(true)
    expect(await store.list()).toEqual([
      { issuer: 'corp', sub: 'bob' },
      { issuer: 'corp', sub: 'bob' },
    ])
  })

  it('when a stored entry is not a deny entry, then list fails naming the field, not serving a partial list', async () => {
    const prefix = `${PREFIX}bad:`
    await redis.send(['HSET', `${prefix}deny`, 'sub:corp\0mallory', '{"issuer":"corp","bogus":1}'])
    const store = createRedisDenyListStore({ redis, prefix })
    await expect(store.list()).rejects.toThrow(/is not a deny entry/)
  })

  it('when deny add for alice runs on the CLI, then both replicas refuse her within 5 s, bob is unaffected, and deny remove restores her', async () => {
    writeConfig(true)
    const a = await replica()
    const b = await replica()
    const alice = await issuer.sign({ sub: 'alice' })
    const bob = await issuer.sign({ sub: 'bob' })
    expect((await vend(a.app, alice)).status).toBe(200)
    expect((await vend(b.app, alice)).status).toBe(200)

    const added = await deny('add', '--issuer', 'corp', '--sub', 'alice', '--reason', 'left')
    expect(added).toMatchObject({ code: 0, err: '' })
    expect(readFileSync(join(dir, 'deny.yaml'), 'utf8')).toContain('sub: alice')
    const msA = await msUntil(a.app, alice, 403)
    const msB = await msUntil(b.app, alice, 403)
    console.log(`deny seen: replica A after ${msA} ms, replica B after ${msB} ms more`)
    expect(msA).toBeGreaterThanOrEqual(0)
    expect(msB).toBeGreaterThanOrEqual(0)
    const refused = await vend(b.app, alice)
    expect(refused.body.error).toBe('access_denied')
    expect((await vend(b.app, bob)).status).toBe(200)
    expect(b.lines.some((l) => l['denied_by'] === 'denylist')).toBe(true)

    const listed = await deny('list', '--json')
    expect(JSON.parse(listed.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ issuer: 'corp', sub: 'alice', active: true })]),
    )
    expect((await deny('remove', '--issuer', 'corp', '--sub', 'alice')).code).toBe(0)
    expect(await msUntil(a.app, alice, 200)).toBeGreaterThanOrEqual(0)
    expect(await msUntil(b.app, alice, 200)).toBeGreaterThanOrEqual(0)
  })

  it('when the fleet config has no denylist.file, then deny add reaches both replicas through Redis alone within 5 s, and remove restores', async () => {
    writeConfig(false)
    const a = await replica()
    const b = await replica()
    const carol = await issuer.sign({ sub: 'carol' })
    const dave = await issuer.sign({ sub: 'dave' })
    expect((await vend(a.app, carol)).status).toBe(200)
    expect((await vend(b.app, carol)).status).toBe(200)
    expect((await deny('add', '--issuer', 'corp', '--sub', 'carol')).code).toBe(0)
    const msA = await msUntil(a.app, carol, 403)
    const msB = await msUntil(b.app, carol, 403)
    console.log(`deny through Redis seen: replica A after ${msA} ms, replica B after ${msB} ms more`)
    expect(msA).toBeGreaterThanOrEqual(0)
    expect(msB).toBeGreaterThanOrEqual(0)
    expect((await vend(b.app, dave)).status).toBe(200)
    expect((await deny('remove', '--issuer', 'corp', '--sub', 'carol')).code).toBe(0)
    expect(await msUntil(a.app, carol, 200)).toBeGreaterThanOrEqual(0)
    expect(await msUntil(b.app, carol, 200)).toBeGreaterThanOrEqual(0)
  })
})

describe.skipIf(!available)('deny on the CLI when the fleet Redis is down', () => {
  it('when deny add cannot reach Redis, then it exits 1 saying so, without the Redis URL (it may hold a password)', async () => {
    writeConfig(true, 'redis://:hunter2-secret@127.0.0.1:1')
    const result = await deny('add', '--issuer', 'corp', '--sub', 'erin')
    expect(result.code).toBe(1)
    expect(result.err).toContain('the fleet Redis (fleet.redisUrl) did not answer')
    expect(result.err).not.toContain('hunter2')
  })
})

describe.skipIf(!available)('the issued-credential index in the fleet Redis', () => {
  it('when alice got a credential from replica A, then replica B explains it to her, answers bob 404, and Redis never holds the AccessKeyId in clear', async () => {
    writeConfig(false)
    const a = await replica()
    const b = await replica()
    const alice = await issuer.sign({ sub: 'alice' })
    const bob = await issuer.sign({ sub: 'bob' })
    const vended = await vend(a.app, alice)
    expect(vended.status).toBe(200)
    const accessKeyId: string = vended.body.accessKeyId
    const question = { accessKeyId, action: 'oss:PutObject', key: 'users/alice/a.txt' }

    const explained = await request(b.app)
      .post('/v1/explain-denial')
      .set('Authorization', `Bearer ${alice}`)
      .send(question)
    expect(explained.status).toBe(200)
    expect(explained.body).toMatchObject({
      layer: 'session-policy',
      rule: 'app-users',
      action: 'oss:PutObject',
    })

    const asBob = await request(b.app)
      .post('/v1/explain-denial')
      .set('Authorization', `Bearer ${bob}`)
      .send(question)
    expect(asBob.status).toBe(404)

    const admin = createClient({ url: REDIS_URL })
    await admin.connect()
    try {
      const keys: string[] = []
      for await (const batch of admin.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 500 })) keys.push(...batch)
      expect(keys.some((k) => k.startsWith(`${PREFIX}ix:`))).toBe(true)
      for (const key of keys) {
        expect(key).not.toContain(accessKeyId)
        const type = await admin.type(key)
        const value = type === 'string' ? await admin.get(key) : JSON.stringify(await admin.hGetAll(key))
        expect(value ?? '').not.toContain(accessKeyId)
        if (key.startsWith(`${PREFIX}ix:`)) expect(value ?? '').not.toContain('alice')
      }
    } finally {
      await admin.quit()
    }
  })

  it('when the fleet Redis does not answer, then recording a credential still succeeds (logged once) and a question is 503, not a false 404', async () => {
    const down = await connectFleetRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 })
    const { logger, lines } = createCapturingLogger('info')
    const index = createFleetIssuedIndex({
      redis: down,
      prefix: PREFIX,
      cacheKey: { kid: '00000000', key: randomBytes(32) },
      logger,
    })
    const entry = {
      accessKeyId: 'STS.down',
      issuer: issuer.issuer,
      subject: 'alice',
      rule: 'app-users',
      target: { bucket: 'examplebucket', region: 'cn-hangzhou' },
      prefix: 'users/alice/',
      access: 'read',
      policy: '{}',
      policySha256: '0'.repeat(64),
      expiration: new Date(Date.now() + 3600_000),
    } as Parameters<typeof index.record>[0]
    try {
      await index.record(entry)
      await index.record(entry)
      expect(lines.filter((l) => l['event'] === 'fleet.index_unavailable')).toHaveLength(1)
      await expect(index.find('STS.down')).rejects.toBeInstanceOf(UpstreamUnavailable)
    } finally {
      await down.close()
    }
  })
})
