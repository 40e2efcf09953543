// The scaling curve's settings and outputs: BENCH_CURVE, the Markdown table and the four charts.
import { describe, expect, it } from 'vitest'
import { curveSettings, parseCurveCallers } from '../../../bench/lib/curve.ts'
import {
  CURVE_CHARTS,
  type CurvePoint,
  type CurveReport,
  renderCurveCharts,
  renderCurveMarkdown,
} from '../../../bench/lib/curve-report.ts'

const MiB = 1024 * 1024

function point(callers: number, okPerSec: number): CurvePoint {
  return {
    callers,
    cacheMaxEntries: Math.max(callers, 10_000),
    warmSeconds: callers / 1000,
    warmRetries: callers === 100_000 ? 42 : 0,
    warmAssumeRoleCalls: callers,
    reqPerSec: okPerSec,
    okPerSec,
    bareOkPerSec: 10_000,
    ratio: okPerSec / 10_000,
    p50Ms: 7,
    p99Ms: callers / 1000 + 30,
    bareP99Ms: 17,
    cpuMicrosPerRequest: 190 + callers / 1000,
    bareCpuMicrosPerRequest: 101,
    rssAfterWarmBytes: (100 + callers / 250) * MiB,
    peakRssBytes: (150 + callers / 200) * MiB,
    bareRssBytes: 93 * MiB,
    assumeRolePer1000: 0,
    non2xx: 0,
    rounds: [],
    bareRounds: [],
  }
}

const report: CurveReport = {
  when: '2026-12-04T00:00:00.000Z',
  machine: {
    nproc: 2,
    node: 'v24.21.0',
    cpu: 'test cpu',
    pinned: true,
    loadAverage: { start: '0.10 0.20 0.30', end: '1.00 1.10 1.20' },
  },
  settings: { callers: [1000, 10_000, 100_000], seconds: 5, rounds: 3, connections: 50 },
  loadGenerator: { tokens: 100_000, peakRssBytes: 310 * MiB },
  points: [point(1000, 5000), point(10_000, 4500), point(100_000, 2000)],
}

describe('parseCurveCallers and curveSettings', () => {
  it.each([
    ['1000,10000,100000', [1000, 10_000, 100_000]],
    [' 100000 , 1000 ', [1000, 100_000]],
    ['500,500', [500]],
    ['7', [7]],
  ])('when BENCH_CURVE is %j, then the callers are %j', (text, callers) => {
    expect(parseCurveCallers(text)).toEqual(callers)
  })

  it.each(['', '1000,', 'abc', '1e3', '0,1000', '-5', '10.5'])(
    'when BENCH_CURVE is %j, then it throws',
    (text) => {
      expect(() => parseCurveCallers(text)).toThrow(TypeError)
    },
  )

  it('when nothing is set, then the curve is 1k, 10k, 100k at c=50, 5 s cells, 3 rounds', () => {
    expect(curveSettings({})).toEqual({
      callers: [1000, 10_000, 100_000],
      seconds: 5,
      rounds: 3,
      connections: 50,
    })
    expect(curveSettings({ BENCH_CURVE: '2000', BENCH_SECONDS: '2', BENCH_ROUNDS: '1' })).toMatchObject({
      callers: [2000],
      seconds: 2,
      rounds: 1,
    })
  })
})

describe('renderCurveMarkdown', () => {
  it('when given three points, then the table has one row each with the measured figures', () => {
    const md = renderCurveMarkdown(report)
    const rows = md.split('\n').filter((l) => /^\| [\d,]+ \|/.test(l))
    expect(rows).toHaveLength(3)
    expect(rows[0]).toBe(
      '| 1,000 | 10,000 | 1.0 s / 1,000 / 0 | 5,000 | 10,000 | 0.50 | 31 | 17 | 104 / 155 | 191 | 101 | 0.0 | 0 |',
    )
    expect(rows[2]).toContain('| 100,000 | 100,000 | 100.0 s / 100,000 / 42 | 2,000 | 10,000 | 0.20 | 130 |')
    expect(md).toContain('load average 0.10 0.20 0.30 at the start, 1.00 1.10 1.20 at the end')
    expect(md).toContain('3 rounds of 5 s at c=50')
    expect(md).toContain('Load generator: 100,000 RS256 tokens held, peak RSS 310 MiB.')
  })
})

describe('renderCurveCharts', () => {
  it('when rendered, then there is one svg per figure with every point and bare express where it applies', () => {
    const charts = renderCurveCharts(report)
    expect(Object.keys(charts).sort()).toEqual(Object.values(CURVE_CHARTS).sort())
    for (const svg of Object.values(charts)) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
      expect(svg).toContain('>bare express</text>')
      expect(svg).toContain('>100k</text>')
    }
    const throughput = charts[CURVE_CHARTS.reqPerSec] as string
    for (const value of ['5,000', '4,500', '2,000', '10,000'])
      expect(throughput).toContain(`>${value}</text>`)
    const rss = charts[CURVE_CHARTS.rss] as string
    expect(rss.match(/<circle /g)).toHaveLength(9)
    for (const value of ['104', '140', '500', '155', '650', '93']) expect(rss).toContain(`>${value}</text>`)
    expect(charts[CURVE_CHARTS.cpu]).toContain('>290</text>')
    expect(charts[CURVE_CHARTS.p99]).toContain('>130</text>')
  })
})
