// The bench's Markdown report: the table of medians, starts and memory, and each target with what was measured.
import type { BenchReport, CellSummary } from '../bench.ts'
import { fixed, mib } from './stats.ts'

interface TargetLine {
  target: string
  measured: string
  met: boolean
}

function cell(report: BenchReport, id: string): CellSummary | undefined {
  return report.cells.find((c) => c.id === id)
}

function targets(report: BenchReport): TargetLine[] {
  const a = cell(report, 'vend-a-c50')
  const b = cell(report, 'vend-b-c50')
  const c = cell(report, 'vend-c-c50')
  const bare = cell(report, 'bare-c50')
  const { medians } = report.starts
  const out: TargetLine[] = []
  if (a && bare) {
    out.push(
      {
        target: '(a) c=50 req/s ≥ 0.6× bare express',
        measured: `${fixed(a.ratio, 2)}×`,
        met: a.ratio >= 0.6,
      },
      {
        target: '(a) c=50 p99 ≤ 2× bare express p99',
        measured: `${a.median.p99Ms} ms vs ${bare.median.p99Ms} ms`,
        met: a.median.p99Ms <= 2 * bare.median.p99Ms,
      },
      {
        target: '(a) server CPU ≤ 200 µs/request',
        measured: `${fixed(a.median.cpuMicrosPerRequest)} µs`,
        met: a.median.cpuMicrosPerRequest <= 200,
      },
      {
        target: '(a) zero AssumeRole for a repeated caller',
        measured: `${fixed(a.median.assumeRolePer1000, 2)} per 1,000`,
        met: a.median.assumeRolePer1000 === 0,
      },
    )
  }
  if (b) {
    out.push(
      {
        target: '(b) c=50 req/s ≥ 0.5× bare express',
        measured: `${fixed(b.ratio, 2)}×`,
        met: b.ratio >= 0.5,
      },
      {
        target: '(b) zero AssumeRole with the cache warm',
        measured: `${fixed(b.median.assumeRolePer1000, 2)} per 1,000`,
        met: b.median.assumeRolePer1000 === 0,
      },
    )
  }
  if (c) {
    out.push(
      {
        target: '(c) one AssumeRole per new caller',
        measured: `${fixed(c.median.assumeRolePer1000)} per 1,000 requests`,
        met: Math.abs(c.median.assumeRolePer1000 - 1000) <= 1,
      },
      {
        target: '(c) ≤ 80% of the 100/s quota, no Throttling.User',
        measured: `fastest ${fixed(c.stsCallsPerSecond ?? Number.NaN, 1)} calls/s, ${c.throttled} throttled`,
        met: (c.stsCallsPerSecond ?? Number.POSITIVE_INFINITY) <= 80.5 && c.throttled === 0,
      },
      {
        target: '(c) only documented 503s (upstream_unavailable + Retry-After)',
        measured: `${fixed(c.median.non2xx)} non-200 per round, ${c.undocumented} undocumented`,
        met: c.undocumented === 0 && c.rounds.every((r) => r.errors === 0),
      },
    )
  }
  const idleRatio = medians.vendImage.idleRssBytes / medians.bareExpress.idleRssBytes
  const startRatio = medians.vendImage.ms / medians.requireExpress.ms
  const startCpuRatio = medians.vendImage.cpuMs / medians.requireExpress.cpuMs
  out.push(
    {
      target: 'idle RSS ≤ 1.3× bare express',
      measured: `${fixed(mib(medians.vendImage.idleRssBytes), 1)} MiB vs ${fixed(mib(medians.bareExpress.idleRssBytes), 1)} MiB (${fixed(idleRatio, 2)}×)`,
      met: idleRatio <= 1.3,
    },
    {
      target: 'cold start to first 200 ≤ 2× `node -e "require(\'express\')"` (wall clock)',
      measured: `${fixed(medians.vendImage.ms)} ms vs ${fixed(medians.requireExpress.ms)} ms (${fixed(startRatio, 2)}×)`,
      met: startRatio <= 2,
    },
    {
      target: "cold start, CPU time of all threads to first 200 ≤ 2× the same for `require('express')`",
      measured: `${fixed(medians.vendImage.cpuMs)} ms vs ${fixed(medians.requireExpress.cpuMs)} ms (${fixed(startCpuRatio, 2)}×)`,
      met: startCpuRatio <= 2,
    },
  )
  out.push(...memoryTargets(report))
  return out
}

function memoryTargets(report: BenchReport): TargetLine[] {
  const out: TargetLine[] = []
  for (const h of report.heap) {
    const snapshot =
      h.snapshotBytesPerCaller === undefined ? '' : `; heap snapshots ${fixed(h.snapshotBytesPerCaller)} B`
    out.push({
      target: `heap per warm caller, all caches, ${h.callers.toLocaleString('en')} callers ≤ 2 KiB`,
      measured: `${fixed(h.bytesPerCaller)} B (heapUsed after GC${snapshot})`,
      met: h.bytesPerCaller <= 2048 && h.ok === h.callers,
    })
  }
  const box = report.container
  out.push({
    target: `peak RSS, ${(box?.callers ?? report.warm.callers).toLocaleString('en')} warm callers, the image's CMD in a 256 MiB container ≤ 256 MiB`,
    measured: box
      ? `${fixed(mib(box.peakRssBytes), 1)} MiB${box.alive ? '' : ', killed'} (${box.oomKills} OOM kills, ${box.limitHits} limit hits incl. page cache)`
      : 'not run: no memory cgroup on this machine',
    met: box?.alive === true && box.oomKills === 0 && box.peakRssBytes <= box.limitBytes,
  })
  return out
}

function memorySection(report: BenchReport, bare50: CellSummary | undefined): string[] {
  const lines: string[] = []
  const box = report.container
  if (box) {
    const ratio = bare50
      ? ` (${fixed(box.cell.okPerSec / bare50.median.okPerSec, 2)}× bare express at c=50)`
      : ''
    lines.push(
      `(b) in a 256 MiB container: the image's CMD started inside a memory cgroup limited to 256 MiB (Node reads it: V8's old space is 50% of it), ${box.callers.toLocaleString('en')} callers warmed (${box.warmOk.toLocaleString('en')} answered 200), then one ${report.settings.seconds} s cell round-robin at c=50: ${fixed(box.cell.okPerSec)} 2xx/s${ratio}, p99 ${box.cell.p99Ms} ms, ${fixed(box.cell.cpuMicrosPerRequest)} µs CPU/request, peak RSS ${fixed(mib(box.peakRssBytes), 1)} MiB${box.alive ? '' : ' (the service was killed)'}.`,
      '',
    )
  }
  if (report.heap.length > 0) {
    lines.push(
      '| warm callers | heap per caller (heapUsed after GC) | heap snapshots, per caller | AssumeRole to warm | peak RSS MiB (no heap limit) |',
      '|--:|--:|--:|--:|--:|',
    )
    for (const h of report.heap)
      lines.push(
        `| ${h.callers.toLocaleString('en')} | ${fixed(h.bytesPerCaller)} B | ${h.snapshotBytesPerCaller === undefined ? '–' : `${fixed(h.snapshotBytesPerCaller)} B`} | ${h.assumeRoleCalls.toLocaleString('en')} | ${fixed(mib(h.peakRssBytes), 1)} |`,
      )
    lines.push('')
  }
  return lines
}

/** Renders the report as Markdown (the README's performance section quotes it). */
export function renderReport(report: BenchReport): string {
  const { machine, settings, starts } = report
  const lines: string[] = []
  lines.push(`## sts-vend bench, ${report.when}`, '')
  lines.push(
    `Machine: ${machine.nproc} × ${machine.cpu}, Node ${machine.node}; ${machine.pinned ? 'servers pinned to core 0, load generator and emulators to core 1 (taskset)' : 'no core pinning'}; load average at the end ${machine.loadAverage}.`,
    `Run: ${settings.rounds} rounds, interleaved, ${settings.seconds} s per timed cell, medians; autocannon on 127.0.0.1, \`GET /v1/credentials\` with an RS256 bearer token. sts-vend runs as the container does (the Dockerfile's CMD and ENV: the esbuild bundle \`dist/server.js\`, its compile cache warm, NODE_ENV=production).`,
    '',
  )
  lines.push(
    '| server | scenario | c | req/s | 2xx/s | ratio | p50 ms | p99 ms | CPU µs/req | RSS before→after MiB | AssumeRole /1,000 req |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  )
  for (const c of report.cells) {
    const m = c.median
    lines.push(
      `| ${c.server} | ${c.scenario} | ${c.connections} | ${fixed(m.reqPerSec)} | ${fixed(m.okPerSec)} | ${fixed(c.ratio, 2)} | ${m.p50Ms} | ${m.p99Ms} | ${fixed(m.cpuMicrosPerRequest)} | ${fixed(mib(m.rssBeforeBytes))}→${fixed(mib(m.rssAfterBytes))} | ${fixed(m.assumeRolePer1000, 1)} |`,
    )
  }
  lines.push(
    '',
    'ratio = 2xx/s over bare express 2xx/s at the same concurrency; p50/p99 over 2xx answers; CPU = the server process (utime + stime from /proc) per answer.',
    '',
  )
  lines.push('| start | median ms | CPU ms (all threads) | idle RSS MiB |', '|---|--:|--:|--:|')
  const rows: [string, keyof typeof starts.medians][] = [
    ['`node -e "require(\'express\')"` (to exit)', 'requireExpress'],
    ['bare express, to first 200', 'bareExpress'],
    ["sts-vend, the image's CMD (bundle, compile cache warm), to first 200 on /healthz", 'vendImage'],
    ['sts-vend `bin/sts-vend.js serve` from a checkout (tsx), to first 200', 'vendSource'],
  ]
  for (const [label, key] of rows) {
    const s = starts.medians[key]
    lines.push(
      `| ${label} | ${fixed(s.ms)} | ${fixed(s.cpuMs)} | ${s.idleRssBytes ? fixed(mib(s.idleRssBytes), 1) : '–'} |`,
    )
  }
  lines.push(
    '',
    `Peak RSS (VmHWM) of each scenario's service: (a) ${fixed(mib(report.peakRssBytes.vendA), 1)} MiB, (b) ${fixed(mib(report.peakRssBytes.vendB), 1)} MiB (after its warm-up: ${report.warm.callers.toLocaleString('en')} callers in ${fixed(report.warm.seconds, 1)} s, ${report.warm.assumeRoleCalls.toLocaleString('en')} AssumeRole calls), (c) ${fixed(mib(report.peakRssBytes.vendC), 1)} MiB; bare express ${fixed(mib(report.peakRssBytes.bare), 1)} MiB.`,
    '',
  )
  lines.push(...memorySection(report, cell(report, 'bare-c50')))
  lines.push('| target | measured | met |', '|---|---|---|')
  for (const t of targets(report)) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`)
  lines.push(
    '',
    "Bench config: `limits.perIp` and `limits.perSubject` raised to 1,000,000,000 per 60 s (every request comes from 127.0.0.1; the limiters still run and count, they just never answer 429); everything else is the default. Each scenario has its own service process, so that one's caches and heap do not weigh on another's figures. (a) and (c) run against an emulator enforcing 100 AssumeRole/s with the default `sts.maxCallsPerSecond` 80; (b)'s emulator has no quota and its `sts.maxCallsPerSecond` is 100,000, so that its 10,000 callers warm in seconds (no AssumeRole happens while they are measured). The naive server calls AssumeRole on every request without retries, as Alibaba's sample AppServer does: past the quota it answers 500.",
    '',
  )
  return `${lines.join('\n')}\n`
}
