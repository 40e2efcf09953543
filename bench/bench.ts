// `npm run bench` (design §12): sts-vend, bare express and a naive AssumeRole-per-request server, loaded in one run, interleaved.
import { writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_ROLE_ARNS } from '../src/emulator/default-config.ts'
import { type FleetRow, fleetBench, renderFleet } from './fleet.ts'
import { buildImageLayout } from './lib/build.ts'
import { type ContainerRun, containerRun } from './lib/container.ts'
import { runCurve } from './lib/curve.ts'
import { measurePerCaller, type PerCallerFigures } from './lib/heap.ts'
import { type CellResult, type CellTarget, runCell } from './lib/load.ts'
import { canPin, cpuModel, memoryBytes, pinSelf, ROOT, spawnNode, waitForOk } from './lib/proc.ts'
import { renderReport } from './lib/report.ts'
import {
  type Emulator,
  freePort,
  SERVICE_ENV,
  serviceConfig,
  startBareExpress,
  startBenchIssuer,
  startEmulatorProcess,
  startService,
} from './lib/stack.ts'
import { type ColdStarts, measureColdStarts } from './lib/starts.ts'
import { median } from './lib/stats.ts'

/** Run settings; every one can be changed by its environment variable. */
export const SETTINGS = {
  /** Seconds per timed cell. */
  seconds: Number(process.env['BENCH_SECONDS'] ?? 5),
  rounds: Number(process.env['BENCH_ROUNDS'] ?? 3),
  /** Distinct callers of scenario (b). */
  callers: Number(process.env['BENCH_CALLERS'] ?? 10_000),
  /** Distinct new callers per round of scenario (c). */
  coldCallers: Number(process.env['BENCH_COLD_CALLERS'] ?? 1000),
  /** Cold starts per program. */
  starts: Number(process.env['BENCH_STARTS'] ?? 3),
  /** Warm callers whose heap cost is measured (bench/lib/heap.ts), comma-separated. */
  heapCallers: (process.env['BENCH_HEAP_CALLERS'] ?? '10000,100000')
    .split(',')
    .map(Number)
    .filter((n) => n > 0),
  /** Distinct callers of the fleet row (3 replicas on one Redis vs 3 independent ones). */
  fleetCallers: Number(process.env['BENCH_FLEET_CALLERS'] ?? 3000),
}

export interface CellSpec {
  id: string
  server: 'bare express' | 'sts-vend' | 'naive AssumeRole per request'
  scenario: string
  connections: number
}

export interface CellSummary extends CellSpec {
  rounds: CellResult[]
  /** Medians over the rounds. */
  median: Omit<CellResult, 'statusCodes'>
  /** 2xx/s of this cell over 2xx/s of bare express at the same concurrency. */
  ratio: number
  /** Scenario (c): the 503s all documented (upstream_unavailable + integer Retry-After ≥ 1)? */
  undocumented?: number
  /** Scenario (c): Throttling.User answers from the emulator during the cell (over all rounds). */
  throttled?: number
  /** Scenario (c): the fastest AssumeRole rate seen in one cell, calls/s. */
  stsCallsPerSecond?: number
}

export interface BenchReport {
  when: string
  machine: { nproc: number; node: string; cpu: string; pinned: boolean; loadAverage: string }
  settings: typeof SETTINGS
  cells: CellSummary[]
  starts: ColdStarts
  /** VmHWM at the end: (a)'s, (b)'s and (c)'s services, bare express. */
  peakRssBytes: { vendA: number; vendB: number; vendC: number; bare: number }
  warm: { callers: number; seconds: number; assumeRoleCalls: number }
  /** (b) in a 256 MiB memory cgroup, the image's CMD (null: this machine gives the bench no cgroup). */
  container: ContainerRun | null
  /** Heap per warm caller (heap.ts), one entry per BENCH_HEAP_CALLERS. */
  heap: PerCallerFigures[]
  /** The fleet row (null: no redis-server on this machine). */
  fleet?: FleetRow[] | null
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`)

function summarise(spec: CellSpec, rounds: CellResult[], bareOk: number): CellSummary {
  const pick = (f: (r: CellResult) => number) => median(rounds.map(f))
  const okPerSec = pick((r) => r.okPerSec)
  return {
    ...spec,
    rounds,
    median: {
      requests: pick((r) => r.requests),
      ok: pick((r) => r.ok),
      non2xx: pick((r) => r.non2xx),
      errors: pick((r) => r.errors),
      seconds: pick((r) => r.seconds),
      reqPerSec: pick((r) => r.reqPerSec),
      okPerSec,
      p50Ms: pick((r) => r.p50Ms),
      p99Ms: pick((r) => r.p99Ms),
      cpuMicrosPerRequest: pick((r) => r.cpuMicrosPerRequest),
      rssBeforeBytes: pick((r) => r.rssBeforeBytes),
      rssAfterBytes: pick((r) => r.rssAfterBytes),
      assumeRolePer1000: pick((r) => r.assumeRolePer1000),
    },
    ratio: okPerSec / bareOk,
  }
}

function target(name: string, url: string, pid: number, emulator: Emulator | null): CellTarget {
  return {
    name,
    url,
    pid,
    assumeRoleCalls: async () => (emulator ? (await emulator.counters()).assumeRoleCalls : 0),
  }
}

const throttledCount = async (emulator: Emulator) =>
  (await emulator.counters()).calls['AssumeRole']?.['Throttling.User'] ?? 0

async function main(): Promise<void> {
  const nproc = availableParallelism()
  const pinned = canPin(nproc) && pinSelf(1)
  const serverCore = pinned ? 0 : null
  const helperCore = pinned ? 1 : null
  const work = join(tmpdir(), `sts-vend-bench-${process.pid}`)
  log(
    `${nproc} cores, node ${process.version}, ${pinned ? 'servers on core 0, load on core 1' : 'no pinning'}`,
  )

  log('building dist/ as the container does')
  const layout = await buildImageLayout()
  const issuer = await startBenchIssuer()
  // (a), (c) and the naive server meet Alibaba's quota (100 AssumeRole/s); (b) warms 10,000 callers first,
  // which at 80/s would take two minutes, so its service talks to an emulator without it. Each scenario has
  // its own service, so that one's caches and heap do not weigh on another's figures.
  const emuFast = await startEmulatorProcess(helperCore, { throttlePerSecond: 1_000_000 })
  const emuQuota = await startEmulatorProcess(helperCore)
  log(`minting ${SETTINGS.callers + SETTINGS.rounds * SETTINGS.coldCallers} RS256 tokens`)
  const solo = await issuer.mint('solo')
  const callers = await issuer.mintMany('caller-', SETTINGS.callers)
  const cold: string[][] = []
  for (let r = 0; r < SETTINGS.rounds; r++)
    cold.push(await issuer.mintMany(`cold-${r}-`, SETTINGS.coldCallers))

  const { mkdirSync, rmSync } = await import('node:fs')
  mkdirSync(work, { recursive: true })
  const vendA = await startService(
    serviceConfig({ port: await freePort(), emulatorUrl: emuQuota.url, issuer }),
    {
      core: serverCore,
      image: layout,
      stdoutFile: join(work, 'vend-a.log'),
    },
  )
  const vendB = await startService(
    serviceConfig({ port: await freePort(), emulatorUrl: emuFast.url, issuer, maxCallsPerSecond: 100_000 }),
    { core: serverCore, image: layout, stdoutFile: join(work, 'vend-b.log') },
  )
  const vendC = await startService(
    serviceConfig({ port: await freePort(), emulatorUrl: emuQuota.url, issuer }),
    {
      core: serverCore,
      image: layout,
      stdoutFile: join(work, 'vend-c.log'),
    },
  )

  // Bare express answers a body of exactly the size of sts-vend's json answer (values blanked).
  const bareExpress = await startBareExpress(vendA.url, solo, work, serverCore)
  const { bodyFile, proc: bare } = bareExpress
  // The same, also setting every response header sts-vend's answer carries: what the required headers cost.
  const bareHeaders = await startBareExpress(vendA.url, solo, work, serverCore, true)
  const naivePort = await freePort()
  const naive = spawnNode(
    [
      'bench/servers/naive-appserver.js',
      String(naivePort),
      new URL(emuQuota.url).host,
      DEFAULT_ROLE_ARNS.appUser,
    ],
    { core: serverCore, env: { ...SERVICE_ENV, NODE_ENV: 'production' } },
  )
  await waitForOk(`http://127.0.0.1:${naivePort}/healthz`, naive)

  const targets = {
    bare: target('bare', bareExpress.url, bare.pid, null),
    vendA: target('vendA', vendA.url, vendA.proc.pid, emuQuota),
    vendB: target('vendB', vendB.url, vendB.proc.pid, emuFast),
    vendC: target('vendC', vendC.url, vendC.proc.pid, emuQuota),
    naive: target('naive', `http://127.0.0.1:${naivePort}`, naive.pid, emuQuota),
    bareHeaders: target('bareHeaders', bareHeaders.url, bareHeaders.proc.pid, null),
  }

  log('cold starts')
  const starts = await measureColdStarts({
    runs: SETTINGS.starts,
    core: serverCore,
    bodyFile,
    image: layout,
    config: (port) => serviceConfig({ port, emulatorUrl: emuQuota.url, issuer }),
    logDir: work,
  })

  log('warming: JIT on every server, then all callers of (b) once (one AssumeRole each)')
  for (const t of [targets.bare, targets.bareHeaders, targets.vendA, targets.naive])
    await runCell(t, { connections: 50, seconds: 2, tokens: [solo] })
  const warmStarted = performance.now()
  const warm = await runCell(targets.vendB, { connections: 50, amount: callers.length, tokens: callers })
  const warmSeconds = (performance.now() - warmStarted) / 1000
  await runCell(targets.vendB, { connections: 50, seconds: 2, tokens: callers })

  const specs: (CellSpec & { run: (round: number) => Promise<CellResult> })[] = []
  for (const connections of [50, 1]) {
    const timed = { connections, seconds: SETTINGS.seconds }
    specs.push(
      {
        id: `bare-c${connections}`,
        server: 'bare express',
        scenario: 'same route, same-size JSON',
        connections,
        run: () => runCell(targets.bare, { ...timed, tokens: [solo] }),
      },
      ...(connections === 50
        ? [
            {
              id: 'bare-h-c50',
              server: 'bare express' as const,
              scenario: "same route, same-size JSON, and sts-vend's response headers",
              connections,
              run: () => runCell(targets.bareHeaders, { ...timed, tokens: [solo] }),
            },
          ]
        : []),
      {
        id: `vend-a-c${connections}`,
        server: 'sts-vend',
        scenario: '(a) one caller repeating',
        connections,
        run: () => runCell(targets.vendA, { ...timed, tokens: [solo] }),
      },
      {
        id: `vend-b-c${connections}`,
        server: 'sts-vend',
        scenario: `(b) ${SETTINGS.callers.toLocaleString('en')} callers round-robin, cache warm`,
        connections,
        run: () => runCell(targets.vendB, { ...timed, tokens: callers }),
      },
      {
        id: `naive-c${connections}`,
        server: 'naive AssumeRole per request',
        scenario: 'every request',
        connections,
        run: () => runCell(targets.naive, { ...timed, tokens: [solo] }),
      },
    )
  }
  let undocumented = 0
  let throttled = 0
  let fastestSts = 0
  specs.push({
    id: 'vend-c-c50',
    server: 'sts-vend',
    scenario: `(c) ${SETTINGS.coldCallers.toLocaleString('en')} new callers, cache cold`,
    connections: 50,
    run: async (round) => {
      // The naive server's cell just spent the emulator's quota for the current second.
      await new Promise((r) => setTimeout(r, 1100))
      const before = await emuQuota.counters()
      const throttledBefore = await throttledCount(emuQuota)
      const started = performance.now()
      const result = await runCell(targets.vendC, {
        connections: 50,
        amount: SETTINGS.coldCallers,
        tokens: cold[round] as string[],
        onResponse: (status, body, headers) => {
          if (status === 200) return
          const error = (() => {
            try {
              return (JSON.parse(body) as { error?: unknown }).error
            } catch {
              return undefined
            }
          })()
          const documented =
            status === 503 &&
            error === 'upstream_unavailable' &&
            /^[1-9]\d*$/.test(headers['retry-after'] ?? '')
          if (!documented) undocumented += 1
        },
      })
      const seconds = (performance.now() - started) / 1000
      const calls = (await emuQuota.counters()).assumeRoleCalls - before.assumeRoleCalls
      fastestSts = Math.max(fastestSts, calls / seconds)
      throttled += (await throttledCount(emuQuota)) - throttledBefore
      return result
    },
  })

  const results = new Map<string, CellResult[]>()
  for (let round = 0; round < SETTINGS.rounds; round++) {
    for (const spec of specs) {
      log(`round ${round + 1}/${SETTINGS.rounds}: ${spec.id}`)
      const list = results.get(spec.id) ?? []
      list.push(await spec.run(round))
      results.set(spec.id, list)
    }
  }

  const bareOk = (c: number) => median((results.get(`bare-c${c}`) ?? []).map((r) => r.okPerSec))
  const cells = specs.map(({ run: _run, ...spec }) => {
    const summary = summarise(spec, results.get(spec.id) ?? [], bareOk(spec.connections))
    if (spec.id === 'vend-c-c50') {
      summary.undocumented = undocumented
      summary.throttled = throttled
      summary.stsCallsPerSecond = fastestSts
    }
    return summary
  })
  const report: BenchReport = {
    when: new Date().toISOString(),
    machine: {
      nproc,
      node: process.version,
      cpu: cpuModel(),
      pinned,
      loadAverage: (await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    settings: SETTINGS,
    cells,
    starts,
    peakRssBytes: {
      vendA: memoryBytes(vendA.proc.pid, 'VmHWM'),
      vendB: memoryBytes(vendB.proc.pid, 'VmHWM'),
      vendC: memoryBytes(vendC.proc.pid, 'VmHWM'),
      bare: memoryBytes(bare.pid, 'VmHWM'),
    },
    warm: {
      callers: callers.length,
      seconds: warmSeconds,
      assumeRoleCalls: Math.round((warm.assumeRolePer1000 * warm.requests) / 1000),
    },
    container: null,
    heap: [],
  }

  await Promise.all([
    vendA.proc.stop(),
    vendB.proc.stop(),
    vendC.proc.stop(),
    bare.stop(),
    naive.stop(),
    bareHeaders.proc.stop(),
  ])
  log(`(b) in a 256 MiB memory cgroup: ${callers.length.toLocaleString('en')} callers warmed, then loaded`)
  report.container = await containerRun({
    image: layout,
    emulator: emuFast,
    issuer,
    callers,
    core: serverCore,
    seconds: SETTINGS.seconds,
    work,
  })
  for (const n of SETTINGS.heapCallers) {
    log(`heap per caller: ${n.toLocaleString('en')} callers (heap.ts)`)
    report.heap.push(await measurePerCaller({ callers: n, log }))
  }
  const fleetCallers = callers.slice(0, SETTINGS.fleetCallers)
  if (fleetCallers.length > 0) {
    log('fleet: 3 replicas on one Redis vs 3 independent replicas, cache warm')
    report.fleet = await fleetBench({
      issuer,
      emulator: emuFast,
      callers: fleetCallers,
      core: serverCore,
      image: layout,
      seconds: SETTINGS.seconds,
      rounds: SETTINGS.rounds,
      connections: 50,
    })
  }
  await Promise.all([emuFast.proc.stop(), emuQuota.proc.stop(), issuer.close()])
  layout.remove()
  rmSync(work, { recursive: true, force: true })

  const fleet = fleetCallers.length > 0 ? renderFleet(report.fleet ?? null, fleetCallers.length) : ''
  const markdown = renderReport(report) + fleet
  writeFileSync(join(ROOT, 'bench', 'results.md'), markdown)
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(markdown)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
// `npm run bench -- --curve`: the scaling curve (1k, 10k, 100k warm callers) instead of the table.
const run = process.argv.slice(2).includes('--curve') ? runCurve : main
run().catch((err: unknown) => {
  process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
