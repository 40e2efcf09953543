// Memory per caller (issue 22): the service warmed with N distinct callers, its heap after GC compared with
// its heap before, through the inspector of the service process (heap snapshots and process.memoryUsage()).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildImageLayout } from './build.ts'
import { connectInspector, selfSizes } from './inspector.ts'
import { runCell } from './load.ts'
import { memoryBytes } from './proc.ts'
import { freePort, serviceConfig, startBenchIssuer, startEmulatorProcess, startService } from './stack.ts'

export interface PerCallerOptions {
  callers: number
  /** Run `node dist/server.js` as the container does (default), or the checkout through tsx. */
  image?: boolean
  /**
   * Take heap snapshots and break the growth down by type. Default: up to 20,000 callers (the snapshot of
   * 100,000 is past V8's longest string, so it could not be parsed in one piece).
   */
  breakdown?: boolean
  /** Node flags for the service, e.g. ['--max-old-space-size=192'] (what a 256 MiB container gets). */
  nodeArgs?: readonly string[]
  /** The service's `cache` settings; default: every cache sized for all the callers, a 4 GiB budget. */
  cache?: Record<string, number>
  /** Concurrent connections of the warm-up. Default 50. */
  connections?: number
  /** Wait this long after the warm-up before measuring, so SDK requests held by timers are let go. Default 6000. */
  settleMs?: number
  log?: (text: string) => void
}

export interface PerCallerFigures {
  callers: number
  /** Successful answers of the warm-up (must equal callers) and the AssumeRole calls they made. */
  ok: number
  assumeRoleCalls: number
  /** process.memoryUsage().heapUsed after forced GC, before (0 callers) and after the warm-up. */
  heapUsedBefore: number
  heapUsedAfter: number
  /** (heapUsedAfter − heapUsedBefore) / callers. */
  bytesPerCaller: number
  /** Total self size of the two heap snapshots, and their difference per caller (breakdown only). */
  snapshotBytesPerCaller?: number
  /** The largest growths by node type/constructor, bytes per caller, largest first (breakdown only). */
  breakdown?: { kind: string; bytesPerCaller: number }[]
  /** VmHWM and VmRSS of the service after the warm-up, before the second snapshot. */
  peakRssBytes: number
  rssBytes: number
  warmSeconds: number
}

/** Signs `n` tokens, many at a time (WebCrypto signs on the thread pool). */
async function mintTokens(mint: (sub: string) => Promise<string>, n: number): Promise<string[]> {
  const out: string[] = []
  for (let start = 0; start < n; start += 256) {
    const batch = Array.from({ length: Math.min(256, n - start) }, (_, i) => mint(`caller-${start + i}`))
    out.push(...(await Promise.all(batch)))
  }
  return out
}

function growth(before: Map<string, number>, after: Map<string, number>, callers: number) {
  return [...after]
    .map(([kind, size]) => ({ kind, bytesPerCaller: (size - (before.get(kind) ?? 0)) / callers }))
    .filter((row) => row.bytesPerCaller >= 1)
    .sort((a, b) => b.bytesPerCaller - a.bytesPerCaller)
    .slice(0, 15)
}

/**
 * Starts an emulator without quota, an RS256 issuer and the service with its inspector open; warms
 * `callers` distinct callers (one GET /v1/credentials each, so one AssumeRole each) and measures the heap
 * growth per caller. Everything it starts is stopped before it resolves.
 */
export async function measurePerCaller(options: PerCallerOptions): Promise<PerCallerFigures> {
  const log = options.log ?? (() => {})
  const { callers } = options
  const work = mkdtempSync(join(tmpdir(), 'sts-vend-heap-'))
  const layout = options.image === false ? null : await buildImageLayout()
  const issuer = await startBenchIssuer()
  const emulator = await startEmulatorProcess(null, { throttlePerSecond: 1_000_000 })
  try {
    log(`minting ${callers.toLocaleString('en')} RS256 tokens`)
    const tokens = await mintTokens((sub) => issuer.mint(sub), callers)
    const solo = await issuer.mint('solo')
    const inspectPort = await freePort()
    const config = serviceConfig({
      port: await freePort(),
      emulatorUrl: emulator.url,
      issuer,
      maxCallsPerSecond: 100_000,
      cacheMaxEntries: Math.max(callers + 1, 10_000),
    })
    // Budget far above what the callers need: this measures what a caller costs, not the budget's bound.
    config['cache'] = { ...(config['cache'] as object), maxMemoryMiB: 4096, ...options.cache }
    const service = await startService(config, {
      core: null,
      ...(layout ? { image: layout } : {}),
      stdoutFile: join(work, 'service.log'),
      nodeArgs: [...(options.nodeArgs ?? []), `--inspect=127.0.0.1:${inspectPort}`],
    })
    const inspector = await connectInspector(inspectPort)
    try {
      const target = {
        name: 'vend',
        url: service.url,
        pid: service.proc.pid,
        assumeRoleCalls: async () => (await emulator.counters()).assumeRoleCalls,
      }
      // Compiled code, the JWKS and one caller's entries are in both measurements.
      await runCell(target, { connections: 10, amount: 2000, tokens: [solo] })
      const breakdown = options.breakdown ?? callers <= 20_000
      const snapshot0 = breakdown ? selfSizes(await inspector.heapSnapshot()) : null
      const before = await inspector.settledMemory()
      log(`warming ${callers.toLocaleString('en')} callers`)
      const started = performance.now()
      const warm = await runCell(target, {
        connections: options.connections ?? 50,
        amount: callers,
        tokens,
      })
      const warmSeconds = (performance.now() - started) / 1000
      await new Promise((r) => setTimeout(r, options.settleMs ?? 6000))
      const after = await inspector.settledMemory()
      const peakRssBytes = memoryBytes(service.proc.pid, 'VmHWM')
      const rssBytes = memoryBytes(service.proc.pid, 'VmRSS')
      const figures: PerCallerFigures = {
        callers,
        ok: warm.ok,
        assumeRoleCalls: Math.round((warm.assumeRolePer1000 * warm.requests) / 1000),
        heapUsedBefore: before.heapUsed,
        heapUsedAfter: after.heapUsed,
        bytesPerCaller: (after.heapUsed - before.heapUsed) / callers,
        peakRssBytes,
        rssBytes,
        warmSeconds,
      }
      if (snapshot0) {
        const snapshotN = selfSizes(await inspector.heapSnapshot())
        figures.snapshotBytesPerCaller = (snapshotN.total - snapshot0.total) / callers
        figures.breakdown = growth(snapshot0.byKind, snapshotN.byKind, callers)
      }
      return figures
    } finally {
      inspector.close()
      await service.proc.stop()
    }
  } finally {
    await Promise.all([emulator.proc.stop(), issuer.close()])
    layout?.remove()
    rmSync(work, { recursive: true, force: true })
  }
}
