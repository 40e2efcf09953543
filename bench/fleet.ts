// The fleet row of `npm run bench` (issue 18): 3 replicas sharing Redis vs 3 independent replicas, cache warm.
// Alone: `npm run bench:fleet` (BENCH_FLEET_CALLERS, BENCH_SECONDS, BENCH_ROUNDS).
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { hasRedisServer, privateRedis } from '../test/fixtures/redis-server.ts'
import { buildImageLayout, type ImageLayout } from './lib/build.ts'
import { type CellResult, runCell } from './lib/load.ts'
import { canPin, pinSelf } from './lib/proc.ts'
import {
  type Emulator,
  freePort,
  type Service,
  serviceConfig,
  startBenchIssuer,
  startEmulatorProcess,
  startService,
} from './lib/stack.ts'
import { median } from './lib/stats.ts'

export interface FleetRow {
  setup: string
  /** AssumeRole calls made to warm every caller on every replica. */
  warmCalls: number
  reqPerSec: number
  okPerSec: number
  p50Ms: number
  p99Ms: number
  cpuMicrosPerRequest: number
  /** AssumeRole calls per 1,000 requests while measured (cache warm: 0 expected). */
  assumeRolePer1000: number
}

export interface FleetBenchOptions {
  issuer: Awaited<ReturnType<typeof startBenchIssuer>>
  /** An emulator without a quota, so that warming is quick. */
  emulator: Emulator
  callers: readonly string[]
  core: number | null
  image?: ImageLayout
  seconds: number
  rounds: number
  connections: number
}

/** Loads 3 replicas at once, connections split between them, every caller token on each; sums the figures. */
type TrioResult = Awaited<ReturnType<typeof runTrio>>

async function runTrio(
  replicas: Service[],
  emulator: Emulator,
  load: { seconds?: number; amount?: number; connections: number; tokens: readonly string[] },
) {
  const before = (await emulator.counters()).assumeRoleCalls
  const results = await Promise.all(
    replicas.map((r) =>
      runCell(
        { name: r.url, url: r.url, pid: r.proc.pid, assumeRoleCalls: async () => 0 },
        { ...load, connections: Math.max(1, Math.round(load.connections / replicas.length)) },
      ),
    ),
  )
  const calls = (await emulator.counters()).assumeRoleCalls - before
  const requests = results.reduce((n, r) => n + r.requests, 0)
  const sum = (f: (r: CellResult) => number) => results.reduce((n, r) => n + f(r), 0)
  return {
    calls,
    reqPerSec: sum((r) => r.reqPerSec),
    okPerSec: sum((r) => r.okPerSec),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: requests > 0 ? sum((r) => r.cpuMicrosPerRequest * r.requests) / requests : 0,
    assumeRolePer1000: requests > 0 ? (calls * 1000) / requests : 0,
  }
}

/** The two rows: 3 fleet replicas on one private redis-server, and 3 independent replicas. Null without redis-server. */
export async function fleetBench(options: FleetBenchOptions): Promise<FleetRow[] | null> {
  if (!hasRedisServer) return null
  const work = join(tmpdir(), `sts-vend-bench-fleet-${process.pid}`)
  mkdirSync(work, { recursive: true })
  const redis = await privateRedis()
  await redis.start()
  const keyFile = join(work, 'cache-key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'))
  const start = async (name: string, fleet: boolean) => {
    const config = serviceConfig({
      port: await freePort(),
      emulatorUrl: options.emulator.url,
      issuer: options.issuer,
      maxCallsPerSecond: 100_000,
    })
    // Limits stay in memory in both setups, so that the rows differ by the fleet's cache and budget only.
    ;(config['limits'] as Record<string, unknown>)['store'] = 'memory'
    if (fleet) config['fleet'] = { redisUrl: redis.url, cacheKeyFile: keyFile, expectedReplicas: 3 }
    return startService(config, {
      core: options.core,
      ...(options.image ? { image: options.image } : {}),
      stdoutFile: join(work, `${name}.log`),
    })
  }
  const rows: FleetRow[] = []
  try {
    for (const [setup, fleet] of [
      ['3 replicas, fleet mode (one Redis)', true],
      ['3 independent replicas', false],
    ] as const) {
      const replicas = [
        await start(`${fleet}-0`, fleet),
        await start(`${fleet}-1`, fleet),
        await start(`${fleet}-2`, fleet),
      ]
      try {
        const tokens = options.callers
        // Warm: every caller asks every replica once (the fleet: one AssumeRole each; independent: three).
        const warm = await runTrio(replicas, options.emulator, {
          connections: options.connections,
          amount: tokens.length,
          tokens,
        })
        await runTrio(replicas, options.emulator, { connections: options.connections, seconds: 2, tokens })
        const rounds: TrioResult[] = []
        for (let round = 0; round < options.rounds; round++)
          rounds.push(
            await runTrio(replicas, options.emulator, {
              connections: options.connections,
              seconds: options.seconds,
              tokens,
            }),
          )
        const pick = (f: (r: TrioResult) => number) => median(rounds.map(f))
        rows.push({
          setup,
          warmCalls: warm.calls,
          reqPerSec: pick((r) => r.reqPerSec),
          okPerSec: pick((r) => r.okPerSec),
          p50Ms: pick((r) => r.p50Ms),
          p99Ms: pick((r) => r.p99Ms),
          cpuMicrosPerRequest: pick((r) => r.cpuMicrosPerRequest),
          assumeRolePer1000: pick((r) => r.assumeRolePer1000),
        })
      } finally {
        await Promise.all(replicas.map((r) => r.proc.stop()))
      }
    }
  } finally {
    await redis.stop()
    rmSync(work, { recursive: true, force: true })
  }
  return rows
}

/** The fleet table for results.md. */
export function renderFleet(rows: FleetRow[] | null, callers: number): string {
  if (!rows) return '\n### Fleet\n\nNot run: no `redis-server` on this machine.\n'
  const n = (x: number, d = 0) =>
    x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d })
  return [
    '',
    `### Fleet (${n(callers)} callers round-robin over 3 replicas, cache warm, c=50 split 3 ways)`,
    '',
    '| setup | AssumeRole to warm | req/s | 2xx/s | p50 ms | p99 ms | CPU µs/req | AssumeRole /1,000 req |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${n(r.warmCalls)} | ${n(r.reqPerSec)} | ${n(r.okPerSec)} | ${n(r.p50Ms)} | ${n(r.p99Ms)} | ${n(r.cpuMicrosPerRequest)} | ${n(r.assumeRolePer1000, 1)} |`,
    ),
    '',
  ].join('\n')
}

async function main(): Promise<void> {
  const pinned = canPin((await import('node:os')).availableParallelism()) && pinSelf(1)
  const callersCount = Number(process.env['BENCH_FLEET_CALLERS'] ?? 3000)
  const layout = await buildImageLayout()
  const issuer = await startBenchIssuer()
  const emulator = await startEmulatorProcess(pinned ? 1 : null, { throttlePerSecond: 1_000_000 })
  try {
    const rows = await fleetBench({
      issuer,
      emulator,
      callers: await issuer.mintMany('fleet-', callersCount),
      core: pinned ? 0 : null,
      image: layout,
      seconds: Number(process.env['BENCH_SECONDS'] ?? 5),
      rounds: Number(process.env['BENCH_ROUNDS'] ?? 3),
      connections: 50,
    })
    process.stdout.write(renderFleet(rows, callersCount))
  } finally {
    await emulator.proc.stop()
    await issuer.close()
    layout.remove()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exit(1)
  })
}
