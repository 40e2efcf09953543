// The bench's SVG line chart: a well-formed standalone document with every point, its value and the labels.
import { describe, expect, it } from 'vitest'
import { escapeXml, type LineChart, renderLineChart, shortCount } from '../../../bench/lib/svg.ts'

/** Checks that every tag is closed in order and every attribute quoted; returns the element names seen. */
function wellFormed(svg: string): string[] {
  const names: string[] = []
  const open: string[] = []
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y
  let at = 0
  while (at < svg.length) {
    const lt = svg.indexOf('<', at)
    if (lt === -1) break
    const text = svg.slice(at, lt)
    expect(text, `stray markup in text before offset ${lt}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/)
    tag.lastIndex = lt
    const m = tag.exec(svg)
    expect(m, `malformed tag at offset ${lt}: ${svg.slice(lt, lt + 60)}`).not.toBeNull()
    const [, closing, name, , selfClosing] = m as RegExpExecArray
    if (closing) expect(open.pop()).toBe(name)
    else {
      names.push(name as string)
      if (!selfClosing) open.push(name as string)
    }
    at = tag.lastIndex
  }
  expect(open).toEqual([])
  return names
}

const attr = (svg: string, element: string, name: string) =>
  [...svg.matchAll(new RegExp(`<${element} [^>]*?${name}="([^"]*)"`, 'g'))].map((m) => Number(m[1]))

const chart: LineChart = {
  title: 'req/s by warm callers',
  xLabel: 'distinct warm callers (log scale)',
  yLabel: 'req/s',
  series: [
    {
      name: 'sts-vend',
      points: [
        { x: 1000, y: 4800 },
        { x: 10_000, y: 4500 },
        { x: 100_000, y: 2100 },
      ],
    },
    {
      name: 'bare express',
      reference: true,
      points: [
        { x: 1000, y: 9600 },
        { x: 10_000, y: 9500 },
        { x: 100_000, y: 9400 },
      ],
    },
  ],
}

describe('renderLineChart', () => {
  it('when given two series of three points, then it is one well-formed svg with six points and their values', () => {
    const svg = renderLineChart(chart)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    const names = wellFormed(svg)
    expect(names.filter((n) => n === 'svg')).toHaveLength(1)
    expect(names.filter((n) => n === 'circle')).toHaveLength(6)
    expect(names.filter((n) => n === 'polyline')).toHaveLength(2)
    for (const value of ['4,800', '4,500', '2,100', '9,600', '9,500', '9,400'])
      expect(svg).toContain(`>${value}</text>`)
    for (const tick of ['>1k<', '>10k<', '>100k<']) expect(svg).toContain(tick)
    expect(svg).toContain('>req/s by warm callers</text>')
    expect(svg).toContain('>distinct warm callers (log scale)</text>')
    expect(svg).toContain('>bare express</text>')
    expect(svg).not.toMatch(/NaN|Infinity|undefined/)
  })

  it('when x is on a log scale, then 1k, 10k and 100k are evenly spaced and y grows upwards', () => {
    const svg = renderLineChart({ ...chart, series: [chart.series[0] as LineChart['series'][0]] })
    const [x1, x2, x3] = attr(svg, 'circle', 'cx') as [number, number, number]
    expect(x2 - x1).toBeGreaterThan(0)
    expect(Math.abs(x3 - x2 - (x2 - x1))).toBeLessThan(0.2)
    const [y1, , y3] = attr(svg, 'circle', 'cy') as [number, number, number]
    expect(y1).toBeLessThan(y3)
  })

  it('when the reference is drawn, then it is dashed and the measured series is not', () => {
    const svg = renderLineChart(chart)
    const lines = [...svg.matchAll(/<polyline [^>]*>/g)].map((m) => m[0])
    expect(lines.filter((l) => l.includes('stroke-dasharray'))).toHaveLength(1)
  })

  it('when text holds markup characters, then it is escaped everywhere', () => {
    const svg = renderLineChart({
      ...chart,
      title: 'p99 <ms> & "quotes"',
      series: [{ name: "a<b>'c'", points: [{ x: 10, y: 1 }] }],
    })
    wellFormed(svg)
    expect(svg).toContain('p99 &lt;ms&gt; &amp; &quot;quotes&quot;')
    expect(svg).toContain('a&lt;b&gt;&apos;c&apos;')
    expect(svg).not.toContain('<ms>')
  })

  it('when there is one point, then it is drawn in the middle with its value and no line', () => {
    const svg = renderLineChart({ ...chart, series: [{ name: 'one', points: [{ x: 10_000, y: 250 }] }] })
    const names = wellFormed(svg)
    expect(names.filter((n) => n === 'circle')).toHaveLength(1)
    expect(names).not.toContain('polyline')
    expect(svg).toContain('>250</text>')
    expect(svg).toContain('>10k</text>')
    expect(svg).not.toMatch(/NaN|Infinity/)
    const [cx] = attr(svg, 'circle', 'cx')
    expect(cx).toBeCloseTo(72 + (640 - 72 - 24) / 2, 0)
  })

  it('when every value is 0, then the y axis still has a range and the points sit on it', () => {
    const svg = renderLineChart({
      ...chart,
      series: [
        {
          name: 'z',
          points: [
            { x: 1, y: 0 },
            { x: 10, y: 0 },
          ],
        },
      ],
    })
    wellFormed(svg)
    expect(svg).not.toMatch(/NaN|Infinity/)
    const ys = attr(svg, 'circle', 'cy')
    expect(ys).toEqual([360 - 56, 360 - 56])
  })

  it('when two series have close values at one x, then their value labels do not overlap and keep their order', () => {
    const svg = renderLineChart({
      ...chart,
      series: [
        { name: 'after warm-up', points: [{ x: 1000, y: 182 }] },
        { name: 'peak', points: [{ x: 1000, y: 184 }] },
      ],
    })
    const ys = attr(svg, 'text class="value"', 'y')
    expect(ys).toHaveLength(2)
    const [warm, peak] = ys as [number, number]
    expect(warm - peak).toBeGreaterThanOrEqual(13)
  })

  it('when a value is formatted by the caller, then points and axis use that format', () => {
    const svg = renderLineChart({ ...chart, formatY: (y) => `${y.toFixed(1)} ms` })
    expect(svg).toContain('>4800.0 ms</text>')
    expect(svg).toContain('>0.0 ms</text>')
  })
})

describe('escapeXml and shortCount', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<svg>', '&lt;svg&gt;'],
    [`"'`, '&quot;&apos;'],
    ['plain', 'plain'],
  ])('when escaping %j, then %j', (input, output) => {
    expect(escapeXml(input)).toBe(output)
  })

  it.each([
    [1000, '1k'],
    [10_000, '10k'],
    [100_000, '100k'],
    [2_000_000, '2M'],
    [500, '500'],
    [1234, '1234'],
  ])('when counting %d, then %s', (input, output) => {
    expect(shortCount(input)).toBe(output)
  })
})
