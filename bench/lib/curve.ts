// `npm run bench -- --curve` (issue 22): how sts-vend scales with distinct warm callers (1k, 10k, 100k).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildImageLayout, type ImageLayout } from './build.ts'
import { type CurvePoint, type CurveReport, renderCurveCharts, renderCurveMarkdown } from './curve-report.ts'
import type { BenchIssuer } from './issuer.ts'
import { type CellResult, type CellTarget, runCell } from './load.ts'
import { type Child, canPin, cpuModel, memoryBytes, pinSelf, ROOT } from './proc.ts'
import {
  type Emulator,
  freePort,
  serviceConfig,
  startBareExpress,
  startBenchIssuer,
  startEmulatorProcess,
  startService,
} from './stack.ts'
import { median } from './stats.ts'

/** The config default of `cache.maxEntries`; the curve raises it to N past that. */
const DEFAULT_CACHE_MAX_ENTRIES = 10_000

/** Parses BENCH_CURVE ("1000,10000,100000"): distinct positive integers, ascending. */
export function parseCurveCallers(text: string): number[] {
  const values = text.split(',').map((part) => part.trim())
  const numbers = values.map(Number)
  if (values.some((v) => !/^\d+$/.test(v)) || numbers.some((n) => n < 1))
    throw new TypeError(
      `BENCH_CURVE must be positive integers separated by commas, got ${JSON.stringify(text)}`,
    )
  return [...new Set(numbers)].sort((a, b) => a - b)
}

export type CurveSettings = CurveReport['settings']

/** The run's settings from the environment (read when the curve runs, so a bad BENCH_CURVE never stops the table). */
export function curveSettings(env: NodeJS.ProcessEnv = process.env): CurveSettings {
  return {
    callers: parseCurveCallers(env['BENCH_CURVE'] ?? '1000,10000,100000'),
    seconds: Number(env['BENCH_SECONDS'] ?? 5),
    rounds: Number(env['BENCH_ROUNDS'] ?? 3),
    connections: 50,
  }
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
const log = (text: string) => process.stderr.write(`bench --curve: ${text}\n`)
const PROGRESS_MS = 5000

/** Signs `n` tokens with the issuer's one key, one after another, with a progress line every ~5 s. */
async function mintCallers(issuer: BenchIssuer, n: number): Promise<string[]> {
  const started = performance.now()
  let shown = started
  const tokens: string[] = []
  for (let i = 0; i < n; i++) {
    // jose returns a rope of its parts; a flat copy holds 100,000 tokens in 58 MB instead of 129 MB.
    tokens.push(Buffer.from(await issuer.mint(`caller-${i}`), 'latin1').toString('latin1'))
    if (performance.now() - shown >= PROGRESS_MS) {
      shown = performance.now()
      log(`minted ${i + 1}/${n} RS256 tokens (${Math.round((i + 1) / ((shown - started) / 1000))}/s)`)
    }
  }
  log(`minted ${n} tokens in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return tokens
}

export interface WarmResult {
  seconds: number
  /** 503s (upstream_unavailable: an STS timeout under load opens the breaker) asked again after Retry-After. */
  retries: number
}

/**
 * Asks once for every caller (one AssumeRole each), `connections` at a time, with a progress line every
 * ~5 s. A 503 is asked again after its Retry-After, within a budget of max(1,000, N/10) retries; any
 * other non-200 throws: a curve over half-warm caches would mislead.
 */
export async function warmCallers(url: string, tokens: readonly string[], connections: number) {
  const started = performance.now()
  const budget = Math.max(1000, Math.ceil(tokens.length / 10))
  const again: string[] = []
  let next = 0
  let done = 0
  let retries = 0
  const progress = setInterval(() => {
    const rate = Math.round(done / ((performance.now() - started) / 1000))
    log(`warmed ${done}/${tokens.length} callers (${rate}/s, ${retries} retried)`)
  }, PROGRESS_MS)
  const worker = async () => {
    for (
      let token = again.pop() ?? tokens[next++];
      token !== undefined;
      token = again.pop() ?? tokens[next++]
    ) {
      const res = await fetch(`${url}/v1/credentials`, { headers: { authorization: `Bearer ${token}` } })
      await res.arrayBuffer()
      if (res.status === 200) done += 1
      else if (res.status === 503 && retries < budget) {
        retries += 1
        again.push(token)
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)))
      } else throw new Error(`warming: ${res.status} after ${done} callers and ${retries} retries`)
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, worker))
  } finally {
    clearInterval(progress)
  }
  return { seconds: (performance.now() - started) / 1000, retries } satisfies WarmResult
}

interface Bare {
  proc: Child
  target: CellTarget
}

/** Bare express answering a JSON body of the size of sts-vend's answer (values blanked), as `npm run bench`. */
async function startBare(sampleUrl: string, token: string, work: string, core: number | null): Promise<Bare> {
  const { proc, url } = await startBareExpress(sampleUrl, token, work, core)
  return { proc, target: { name: 'bare', url, pid: proc.pid, assumeRoleCalls: async () => 0 } }
}

interface PointContext {
  settings: CurveSettings
  issuer: BenchIssuer
  tokens: readonly string[]
  bare: Bare
  image: ImageLayout
  work: string
  serverCore: number | null
  helperCore: number | null
}

const pick = (rounds: readonly CellResult[], f: (r: CellResult) => number) => median(rounds.map(f))

/** One point of the curve: a fresh service and emulator, N callers warmed, then interleaved rounds. */
async function measurePoint(n: number, ctx: PointContext): Promise<CurvePoint> {
  const { seconds, rounds, connections } = ctx.settings
  const tokens = ctx.tokens.slice(0, n)
  const emulator: Emulator = await startEmulatorProcess(ctx.helperCore, { throttlePerSecond: 1_000_000 })
  const cacheMaxEntries = Math.max(n, DEFAULT_CACHE_MAX_ENTRIES)
  const config = serviceConfig({
    port: await freePort(),
    emulatorUrl: emulator.url,
    issuer: ctx.issuer,
    maxCallsPerSecond: 100_000,
    cacheMaxEntries,
    // Warm means every caller stays cached: a budget of 8 KiB per caller (they cost about 2), at least the default 64 MiB.
    cacheMaxMemoryMiB: Math.max(64, Math.ceil((n * 8 * 1024) / 2 ** 20)),
  })
  const service = await startService(config, {
    core: ctx.serverCore,
    image: ctx.image,
    stdoutFile: join(ctx.work, `vend-${n}.log`),
  })
  try {
    const vend: CellTarget = {
      name: `vend-${n}`,
      url: service.url,
      pid: service.proc.pid,
      assumeRoleCalls: async () => (await emulator.counters()).assumeRoleCalls,
    }
    log(`${n.toLocaleString('en')} callers: warming (one AssumeRole each)`)
    const callsBefore = await vend.assumeRoleCalls()
    const warm = await warmCallers(service.url, tokens, connections)
    const warmCalls = (await vend.assumeRoleCalls()) - callsBefore
    await runCell(vend, { connections, seconds: 2, tokens })
    const rssAfterWarmBytes = memoryBytes(service.proc.pid)
    const vendRounds: CellResult[] = []
    const bareRounds: CellResult[] = []
    for (let round = 0; round < rounds; round++) {
      log(`${n.toLocaleString('en')} callers: round ${round + 1}/${rounds}`)
      bareRounds.push(await runCell(ctx.bare.target, { connections, seconds, tokens: tokens.slice(0, 1) }))
      vendRounds.push(await runCell(vend, { connections, seconds, tokens }))
    }
    const okPerSec = pick(vendRounds, (r) => r.okPerSec)
    const bareOkPerSec = pick(bareRounds, (r) => r.okPerSec)
    return {
      callers: n,
      cacheMaxEntries,
      warmSeconds: warm.seconds,
      warmRetries: warm.retries,
      warmAssumeRoleCalls: warmCalls,
      reqPerSec: pick(vendRounds, (r) => r.reqPerSec),
      okPerSec,
      bareOkPerSec,
      ratio: okPerSec / bareOkPerSec,
      p50Ms: pick(vendRounds, (r) => r.p50Ms),
      p99Ms: pick(vendRounds, (r) => r.p99Ms),
      bareP99Ms: pick(bareRounds, (r) => r.p99Ms),
      cpuMicrosPerRequest: pick(vendRounds, (r) => r.cpuMicrosPerRequest),
      bareCpuMicrosPerRequest: pick(bareRounds, (r) => r.cpuMicrosPerRequest),
      rssAfterWarmBytes,
      peakRssBytes: memoryBytes(service.proc.pid, 'VmHWM'),
      bareRssBytes: memoryBytes(ctx.bare.proc.pid),
      assumeRolePer1000: pick(vendRounds, (r) => r.assumeRolePer1000),
      non2xx: vendRounds.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
      rounds: vendRounds,
      bareRounds,
    }
  } finally {
    await Promise.all([service.proc.stop(), emulator.proc.stop()])
  }
}

/** Writes bench/results.md, bench/results.json and docs/bench/curve-*.svg; prints the Markdown. */
function writeCurve(report: CurveReport): void {
  const markdown = renderCurveMarkdown(report)
  writeFileSync(join(ROOT, 'bench', 'results.md'), markdown)
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
  const charts = join(ROOT, 'docs', 'bench')
  mkdirSync(charts, { recursive: true })
  for (const [file, svg] of Object.entries(renderCurveCharts(report))) writeFileSync(join(charts, file), svg)
  process.stdout.write(markdown)
}

interface Cores {
  serverCore: number | null
  helperCore: number | null
}

/** Mints the tokens, starts bare express (its body sized from a real answer) and measures every point. */
async function measureCurve(settings: CurveSettings, work: string, image: ImageLayout, cores: Cores) {
  const issuer = await startBenchIssuer()
  try {
    const tokens = await mintCallers(issuer, Math.max(...settings.callers))
    const sampleEmulator = await startEmulatorProcess(cores.helperCore, { throttlePerSecond: 1_000_000 })
    const sampleService = await startService(
      serviceConfig({ port: await freePort(), emulatorUrl: sampleEmulator.url, issuer }),
      { core: cores.serverCore, image, stdoutFile: join(work, 'sample.log') },
    )
    const bare = await startBare(sampleService.url, tokens[0] as string, work, cores.serverCore).finally(() =>
      Promise.all([sampleService.proc.stop(), sampleEmulator.proc.stop()]),
    )
    try {
      await runCell(bare.target, { connections: 50, seconds: 2, tokens: tokens.slice(0, 1) })
      const points: CurvePoint[] = []
      const ctx = { settings, issuer, tokens, bare, image, work, ...cores }
      for (const n of settings.callers) points.push(await measurePoint(n, ctx))
      return { points, tokens: tokens.length }
    } finally {
      await bare.proc.stop()
    }
  } finally {
    await issuer.close()
  }
}

/** The whole curve run; the servers on core 0 and the load generator and emulators on core 1 when possible. */
export async function runCurve(): Promise<void> {
  const loadStart = loadAverage()
  const settings = curveSettings()
  const nproc = availableParallelism()
  const pinned = canPin(nproc) && pinSelf(1)
  const cores = { serverCore: pinned ? 0 : null, helperCore: pinned ? 1 : null }
  log(
    `callers ${settings.callers.join(', ')}; ${pinned ? 'servers on core 0, load on core 1' : 'no pinning'}`,
  )
  log('building dist/ as the container does')
  const layout = await buildImageLayout()
  const work = join(tmpdir(), `sts-vend-curve-${process.pid}`)
  mkdirSync(work, { recursive: true })
  // On failure the services' logs stay in `work` for a look; the built image goes either way.
  const measured = await measureCurve(settings, work, layout, cores)
    .catch((err: unknown) => {
      log(`the services' logs are in ${work}`)
      throw err
    })
    .finally(() => layout.remove())
  rmSync(work, { recursive: true, force: true })
  writeCurve({
    when: new Date().toISOString(),
    machine: {
      nproc,
      node: process.version,
      cpu: cpuModel(),
      pinned,
      loadAverage: { start: loadStart, end: loadAverage() },
    },
    settings,
    // maxRSS is in KiB.
    loadGenerator: { tokens: measured.tokens, peakRssBytes: process.resourceUsage().maxRSS * 1024 },
    points: measured.points,
  })
}
