// The scaling curve's outputs: the Markdown table and one SVG chart per figure (req/s, p99, RSS, CPU).
import type { CellResult } from './load.ts'
import { fixed, mib } from './stats.ts'
import { type ChartSeries, type LineChart, renderLineChart } from './svg.ts'

/** One number of warm callers: medians over the rounds, bare express measured in the same rounds. */
export interface CurvePoint {
  callers: number
  /** `cache.maxEntries` the service ran with (≥ callers, so that every caller's credentials stay cached). */
  cacheMaxEntries: number
  warmSeconds: number
  /** Warm-up requests answered 503 and asked again (STS timeouts under load). */
  warmRetries: number
  warmAssumeRoleCalls: number
  reqPerSec: number
  okPerSec: number
  bareOkPerSec: number
  /** 2xx/s over bare express's 2xx/s. */
  ratio: number
  p50Ms: number
  p99Ms: number
  bareP99Ms: number
  cpuMicrosPerRequest: number
  bareCpuMicrosPerRequest: number
  /** VmRSS after the warm-up (and a 2 s round-robin pass over every caller). */
  rssAfterWarmBytes: number
  /** VmHWM at the end of the point. */
  peakRssBytes: number
  /** Bare express's VmRSS after the same rounds. */
  bareRssBytes: number
  assumeRolePer1000: number
  /** Non-2xx answers and errors over all measured rounds (0 expected). */
  non2xx: number
  rounds: CellResult[]
  bareRounds: CellResult[]
}

export interface CurveReport {
  when: string
  machine: {
    nproc: number
    node: string
    cpu: string
    pinned: boolean
    /** 1, 5, 15 min load averages at the start and at the end of the run. */
    loadAverage: { start: string; end: string }
  }
  settings: { callers: number[]; seconds: number; rounds: number; connections: number }
  /** The load generator (this process): its peak RSS, holding every token as a string. */
  loadGenerator: { tokens: number; peakRssBytes: number }
  points: CurvePoint[]
}

/** The chart files, named as the README embeds them. */
export const CURVE_CHARTS = {
  reqPerSec: 'curve-req-per-s.svg',
  p99: 'curve-p99.svg',
  rss: 'curve-rss.svg',
  cpu: 'curve-cpu.svg',
} as const

const count = (n: number) => Math.round(n).toLocaleString('en')

/** The Markdown of a curve run: machine, settings, the table, and what each column means. */
export function renderCurveMarkdown(report: CurveReport): string {
  const { machine, settings } = report
  const rows = report.points.map((p) =>
    [
      count(p.callers),
      count(p.cacheMaxEntries),
      `${fixed(p.warmSeconds, 1)} s / ${count(p.warmAssumeRoleCalls)} / ${count(p.warmRetries)}`,
      count(p.okPerSec),
      count(p.bareOkPerSec),
      fixed(p.ratio, 2),
      fixed(p.p99Ms),
      fixed(p.bareP99Ms),
      `${fixed(mib(p.rssAfterWarmBytes))} / ${fixed(mib(p.peakRssBytes))}`,
      fixed(p.cpuMicrosPerRequest),
      fixed(p.bareCpuMicrosPerRequest),
      fixed(p.assumeRolePer1000, 1),
      count(p.non2xx),
    ].join(' | '),
  )
  return [
    '# sts-vend scaling curve (`npm run bench -- --curve`)',
    '',
    `${report.when}; ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, ` +
      `${machine.pinned ? 'servers on core 0, load generator and emulators on core 1' : 'no pinning'}; ` +
      `load average ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end.`,
    '',
    `Per point: a fresh \`node dist/server.js\` (NODE_ENV=production) and emulator without a quota; every caller ` +
      `asks once (one AssumeRole each), then ${settings.rounds} rounds of ${settings.seconds} s at ` +
      `c=${settings.connections}, callers round-robin, interleaved with bare express; medians.`,
    '',
    '| warm callers | cache.maxEntries | warm-up time / AssumeRole / retried | 2xx/s | bare 2xx/s | ratio | p99 ms | bare p99 ms | RSS MiB after warm-up / peak | CPU µs/req | bare CPU µs/req | AssumeRole /1,000 req | non-2xx |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r} |`),
    '',
    'ratio = 2xx/s over bare express 2xx/s in the same rounds; CPU = the server process utime + stime ' +
      '(/proc/<pid>/stat) per request; RSS after warm-up = VmRSS, peak = VmHWM.',
    '',
    `Load generator: ${count(report.loadGenerator.tokens)} RS256 tokens held, peak RSS ` +
      `${fixed(mib(report.loadGenerator.peakRssBytes))} MiB.`,
    '',
  ].join('\n')
}

const X_LABEL = 'distinct warm callers (log scale)'

function series(report: CurveReport, name: string, f: (p: CurvePoint) => number, reference = false) {
  const out: ChartSeries = { name, points: report.points.map((p) => ({ x: p.callers, y: f(p) })) }
  return reference ? { ...out, reference } : out
}

/** The four charts, keyed by file name; bare express is the dashed reference where it applies. */
export function renderCurveCharts(report: CurveReport): Record<string, string> {
  const charts: [string, LineChart][] = [
    [
      CURVE_CHARTS.reqPerSec,
      {
        title: 'Throughput by warm callers (c=50)',
        xLabel: X_LABEL,
        yLabel: '2xx answers per second',
        series: [
          series(report, 'sts-vend', (p) => p.okPerSec),
          series(report, 'bare express', (p) => p.bareOkPerSec, true),
        ],
      },
    ],
    [
      CURVE_CHARTS.p99,
      {
        title: 'p99 latency by warm callers (c=50)',
        xLabel: X_LABEL,
        yLabel: 'p99 ms',
        series: [
          series(report, 'sts-vend', (p) => p.p99Ms),
          series(report, 'bare express', (p) => p.bareP99Ms, true),
        ],
      },
    ],
    [
      CURVE_CHARTS.rss,
      {
        title: 'Resident memory by warm callers',
        xLabel: X_LABEL,
        yLabel: 'MiB',
        series: [
          series(report, 'sts-vend after warm-up', (p) => mib(p.rssAfterWarmBytes)),
          series(report, 'sts-vend peak (VmHWM)', (p) => mib(p.peakRssBytes)),
          series(report, 'bare express', (p) => mib(p.bareRssBytes), true),
        ],
      },
    ],
    [
      CURVE_CHARTS.cpu,
      {
        title: 'Server CPU per request by warm callers',
        xLabel: X_LABEL,
        yLabel: 'CPU µs per request',
        series: [
          series(report, 'sts-vend', (p) => p.cpuMicrosPerRequest),
          series(report, 'bare express', (p) => p.bareCpuMicrosPerRequest, true),
        ],
      },
    ],
  ]
  return Object.fromEntries(charts.map(([file, chart]) => [file, renderLineChart(chart)]))
}
