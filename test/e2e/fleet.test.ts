// Fleet mode end to end: the emulator and 3 `sts-vend serve` processes sharing a private redis-server.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { DEFAULT_ROLE_ARNS } from '../../src/emulator/default-config.ts'
import {
  type CliProcess,
  firstJsonLine,
  freePort,
  identityEnv,
  spawnCli,
  waitForOk,
} from '../fixtures/processes.ts'
import { hasRedisServer, type PrivateRedis, privateRedis } from '../fixtures/redis-server.ts'
import { appUsers, corpIssuer } from '../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'

const MAX_CALLS_PER_SECOND = 20
/** Eight times the budget: new callers (16 of the 20 per second) keep it saturated for about 10 s. */
const CALLERS = 160

interface Answer {
  status: number
  code?: string
  retryAfter: string | null
}
interface Stats {
  assumeRoleCalls: number
  assumeRoleTimes: number[]
  calls: Record<string, Record<string, number>>
}

let dir: string
let issuer: TestIssuer
let emulator: CliProcess
let emulatorUrl: string
let redis: PrivateRedis
const replicas: { proc: CliProcess; url: string }[] = []
const answers: Answer[] = []
/** Every secret handed out and every JWT sent: none may appear in Redis. */
const secrets = new Set<string>()

const stats = async () => (await (await fetch(`${emulatorUrl}/__stats`)).json()) as Stats

async function ask(url: string, token: string): Promise<Answer> {
  const res = await fetch(`${url}/v1/credentials?format=json`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  const body = (await res.json()) as Record<string, unknown>
  const answer: Answer = { status: res.status, retryAfter: res.headers.get('retry-after') }
  if (res.status === 200) {
    secrets.add(String(body['accessKeySecret']))
    secrets.add(String(body['securityToken']))
    secrets.add(String(body['accessKeyId']))
  } else answer.code = String(body['error'])
  answers.push(answer)
  return answer
}

/** Asks until a 200, honouring Retry-After on a 503 (bounded). */
async function askUntilIssued(url: string, token: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const answer = await ask(url, token)
    if (answer.status !== 503) return
    await delay(Math.min(2000, Number(answer.retryAfter ?? 1) * 1000) * (0.5 + Math.random() / 2))
  }
}

/** `callers` subjects, each asking every replica twice round-robin, `workers` callers at a time. */
async function run(subjects: string[], workers: number, onProgress?: (done: number) => void) {
  let next = 0
  let done = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < subjects.length; i = next++) {
        const token = await issuer.sign({ sub: String(subjects[i]) })
        secrets.add(token)
        for (let round = 0; round < 2; round += 1) {
          for (const replica of replicas) await askUntilIssued(replica.url, token)
        }
        onProgress?.(++done)
      }
    }),
  )
}

async function redisDump(): Promise<string> {
  const admin = createClient({ url: redis.url })
  await admin.connect()
  const out: string[] = []
  for await (const keys of admin.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) {
      const type = await admin.type(key)
      let value = ''
      if (type === 'string') value = (await admin.get(key)) ?? ''
      else if (type === 'zset') value = (await admin.zRange(key, 0, -1)).join(' ')
      else if (type === 'hash') value = JSON.stringify(await admin.hGetAll(key))
      out.push(`${key} ${value}`)
    }
  }
  await admin.quit()
  return out.join('\n')
}

const issuedLines = () =>
  replicas.flatMap((r) => r.proc.jsonLines()).filter((l) => l['event'] === 'credentials.issued')

/** Waits up to 5 s for `count` issued lines across the replicas (the assertions then say what is missing). */
async function settledIssuedLines(count: number): Promise<void> {
  const deadline = Date.now() + 5000
  while (issuedLines().length < count && Date.now() < deadline) await delay(50)
}

const maxInAnyWindow = (times: number[], ms: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= ms) j += 1
    max = Math.max(max, i - j + 1)
  }
  return max
}

beforeAll(async () => {
  if (!hasRedisServer) return
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-fleet-'))
  redis = await privateRedis()
  await redis.start()
  issuer = await startTestIssuer()
  emulator = spawnCli(['emulator', '--port', '0'])
  emulatorUrl = String((await firstJsonLine(emulator))['sts'])
  const keyFile = join(dir, 'cache-key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'))
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort()
    const config = {
      server: { host: '127.0.0.1', port },
      sts: { endpoint: new URL(emulatorUrl).host, protocol: 'http', maxCallsPerSecond: MAX_CALLS_PER_SECOND },
      // The limiters stay in memory here: in Redis they fail closed (503) while Redis is down, which would
      // hide what this test shows, the credential path without Redis.
      limits: {
        store: 'memory',
        perIp: { limit: 1_000_000, windowSeconds: 60 },
        perSubject: { limit: 1_000_000, windowSeconds: 60 },
      },
      fleet: { redisUrl: redis.url, cacheKeyFile: keyFile, expectedReplicas: 3 },
      issuers: [corpIssuer(issuer)],
      rules: [appUsers({ when: {}, roleArn: DEFAULT_ROLE_ARNS.appUser })],
    }
    const file = join(dir, `config-${i}.yaml`)
    writeFileSync(file, stringify(config))
    const proc = spawnCli(['serve', '--config', file], {
      ...identityEnv(),
      LOG_LEVEL: 'info',
    })
    replicas.push({ proc, url: `http://127.0.0.1:${port}` })
  }
  for (const r of replicas) await waitForOk(`${r.url}/readyz`, r.proc, 30_000)
}, 90_000)

afterAll(async () => {
  for (const r of replicas) await r.proc.stop()
  await emulator?.stop()
  await issuer?.close()
  await redis?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!hasRedisServer)('fleet of 3 replicas on one Redis', () => {
  it(`when ${CALLERS} callers each ask every replica twice, then the emulator sees exactly ${CALLERS} AssumeRole calls, never more than 20 in a second, and every answer is 200 or a documented 503`, async () => {
    await fetch(`${emulatorUrl}/__counters`, { method: 'DELETE' })
    await run(
      Array.from({ length: CALLERS }, (_, i) => `user-${i}`),
      30,
    )
    const s = await stats()
    // Each replica writes its audit line after the answer is sent, through a pipe: wait (bounded) until
    // all (3 replicas × 2 asks each) have arrived before counting them, not whatever has arrived so far.
    await settledIssuedLines(CALLERS * 6)
    const perReplica = replicas.map((r) => {
      const lines = r.proc.jsonLines()
      const count = (f: (l: Record<string, unknown>) => boolean) => lines.filter(f).length
      return {
        miss: count((l) => l['source'] === 'miss'),
        fleet: count((l) => l['source'] === 'fleet'),
        local: count((l) => l['source'] === 'local'),
        events: [...new Set(lines.map((l) => String(l['event'])))].join(','),
        stdoutBytes: r.proc.stdout().length,
        fallbacks: count((l) => l['event'] === 'fleet.fallback'),
      }
    })
    process.stderr.write(`fleet e2e audit per replica: ${JSON.stringify(perReplica)}\n`)
    process.stderr.write(`max in 1 s: ${maxInAnyWindow(s.assumeRoleTimes, 1000)}\n`)
    expect(s.assumeRoleCalls).toBe(CALLERS)
    expect(s.calls['AssumeRole']).toEqual({ success: CALLERS })
    expect(maxInAnyWindow(s.assumeRoleTimes, 1000)).toBeLessThanOrEqual(MAX_CALLS_PER_SECOND)
    for (const a of answers) {
      if (a.status === 200) continue
      expect(a).toMatchObject({ status: 503, code: 'upstream_unavailable' })
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1)
    }
    expect(answers.filter((a) => a.status === 200)).toHaveLength(CALLERS * 6)
    // Each caller: a new call on the first replica, the fleet cache on the other two, then local hits.
    const sources = issuedLines().map((l) => String(l['source']))
    expect(sources.filter((s) => s === 'miss')).toHaveLength(CALLERS)
    expect(sources.filter((s) => s === 'fleet')).toHaveLength(CALLERS * 2)
    expect(sources.filter((s) => s === 'local')).toHaveLength(CALLERS * 3)
    const dump = await redisDump()
    expect(dump).toContain(':c:') // the sealed entries are there
    for (const secret of secrets) expect(dump.includes(secret), 'a secret in clear in Redis').toBe(false)
  }, 180_000)

  it('when Redis stops mid-run, then replicas keep answering without Throttling.User, and share again within 10 s of its return', async () => {
    await fetch(`${emulatorUrl}/__counters`, { method: 'DELETE' })
    const before = answers.length
    let stopped = false
    const outage = (async () => {
      while (answers.length - before < 60) await delay(50)
      await redis.stop()
      stopped = true
      await delay(3000)
    })()
    await run(
      Array.from({ length: 90 }, (_, i) => `late-${i}`),
      15,
    )
    await outage
    expect(stopped).toBe(true)
    for (const r of replicas) {
      expect(r.proc.jsonLines().some((l) => l['event'] === 'fleet.fallback')).toBe(true)
    }
    await redis.start()
    const back = Date.now()
    let shared = false
    for (let k = 0; !shared && Date.now() - back < 10_000; k += 1) {
      const token = await issuer.sign({ sub: `resume-${k}` })
      secrets.add(token)
      const calls = (await stats()).assumeRoleCalls
      for (const r of replicas) await askUntilIssued(r.url, token)
      shared = (await stats()).assumeRoleCalls - calls === 1
      if (!shared) await delay(250)
    }
    expect(shared, 'replicas did not share a grant within 10 s of Redis returning').toBe(true)
    const s = await stats()
    expect(s.calls['AssumeRole']?.['Throttling.User']).toBeUndefined()
    for (const a of answers.slice(before)) {
      if (a.status === 200) continue
      expect(a).toMatchObject({ status: 503, code: 'upstream_unavailable' })
    }
    const dump = await redisDump()
    for (const secret of secrets) expect(dump.includes(secret), 'a secret in clear in Redis').toBe(false)
  }, 180_000)
})
