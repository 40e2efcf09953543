// A small line chart as standalone SVG (the bench's scaling curve): log-scale x, linear y from 0, values on points.

export interface ChartPoint {
  x: number
  y: number
}

export interface ChartSeries {
  name: string
  points: readonly ChartPoint[]
  /** A reference (bare express): drawn dashed and grey. */
  reference?: boolean
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: readonly ChartSeries[]
  /** How a value is written on its point and on the y axis. Default: rounded, thousands separated. */
  formatY?: (y: number) => string
  /** How an x tick is written. Default: 1k, 10k, 100k, 1M… */
  formatX?: (x: number) => string
  width?: number
  height?: number
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']
const REFERENCE_COLOUR = '#7f7f7f'
const MARGIN = { left: 72, right: 24, top: 64, bottom: 56 }

/** Escapes text for an SVG text node or attribute value. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
}

/** 1000 → "1k", 100000 → "100k", 2000000 → "2M". */
export function shortCount(x: number): string {
  if (x >= 1e6 && x % 1e5 === 0) return `${x / 1e6}M`
  if (x >= 1e3 && x % 100 === 0) return `${x / 1e3}k`
  return String(x)
}

const defaultFormatY = (y: number) => Math.round(y).toLocaleString('en')

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)
  return step ?? 10 * power
}

interface Scale {
  x(value: number): number
  y(value: number): number
  yTicks: number[]
  xTicks: number[]
}

function scales(chart: LineChart, width: number, height: number): Scale {
  const points = chart.series.flatMap((s) => s.points)
  const xs = [...new Set(points.map((p) => p.x).filter((x) => x > 0))].sort((a, b) => a - b)
  const logMin = Math.log10(xs[0] ?? 1)
  const logMax = Math.log10(xs.at(-1) ?? 1)
  const plotWidth = width - MARGIN.left - MARGIN.right
  const plotHeight = height - MARGIN.top - MARGIN.bottom
  // Some room either side of the outer points, so that their value labels stay inside.
  const pad = plotWidth * 0.08
  const x = (value: number) =>
    logMax === logMin
      ? MARGIN.left + plotWidth / 2
      : MARGIN.left + pad + ((Math.log10(value) - logMin) / (logMax - logMin)) * (plotWidth - 2 * pad)
  const top = Math.max(0, ...points.map((p) => p.y).filter(Number.isFinite))
  const step = niceStep(top > 0 ? top * 1.15 : 1, 4)
  const yMax = Math.ceil((top > 0 ? top * 1.15 : 1) / step) * step
  const y = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight
  const yTicks: number[] = []
  for (let t = 0; t <= yMax + step / 2; t += step) yTicks.push(t)
  return { x, y, yTicks, xTicks: xs }
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

function axes(chart: LineChart, s: Scale, width: number, height: number): string[] {
  const formatX = chart.formatX ?? shortCount
  const formatY = chart.formatY ?? defaultFormatY
  const bottom = height - MARGIN.bottom
  const right = width - MARGIN.right
  const out = [
    `<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#333"/>`,
  ]
  for (const t of s.yTicks) {
    const y = num(s.y(t))
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatY(t))}</text>`,
    )
  }
  for (const t of s.xTicks) {
    const x = num(s.x(t))
    out.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeXml(formatX(t))}</text>`,
    )
  }
  const midY = (MARGIN.top + bottom) / 2
  out.push(
    `<text class="x-label" x="${(MARGIN.left + right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text class="y-label" x="16" y="${midY}" text-anchor="middle" transform="rotate(-90 16 ${midY})">${escapeXml(chart.yLabel)}</text>`,
  )
  return out
}

interface Label {
  x: number
  y: number
  anchor: 'middle' | 'start'
}

/**
 * Where each value goes: above its point, centred; where that would touch the label of a higher point at
 * the same x (close values of two series), to the right of the point and at least one line lower.
 */
function placeLabels(chart: LineChart, s: Scale): Map<string, Label> {
  const byX = new Map<number, { key: string; cx: number; cy: number }[]>()
  chart.series.forEach((series, si) => {
    series.points.forEach((p, pi) => {
      if (!(p.x > 0 && Number.isFinite(p.y))) return
      const at = byX.get(p.x) ?? []
      at.push({ key: `${si}:${pi}`, cx: s.x(p.x), cy: s.y(p.y) })
      byX.set(p.x, at)
    })
  })
  const labels = new Map<string, Label>()
  for (const points of byX.values()) {
    let previous = Number.NEGATIVE_INFINITY
    for (const { key, cx, cy } of points.sort((a, b) => a.cy - b.cy)) {
      const label: Label =
        cy - 8 >= previous + 13
          ? { x: cx, y: cy - 8, anchor: 'middle' }
          : { x: cx + 7, y: Math.max(cy + 4, previous + 13), anchor: 'start' }
      labels.set(key, label)
      previous = label.y
    }
  }
  return labels
}

function seriesMarks(chart: LineChart, s: Scale): string[] {
  const formatY = chart.formatY ?? defaultFormatY
  const labels = placeLabels(chart, s)
  let colour = 0
  return chart.series.flatMap((series, si) => {
    const stroke = series.reference ? REFERENCE_COLOUR : (PALETTE[colour++ % PALETTE.length] as string)
    const points = series.points.filter((p) => p.x > 0 && Number.isFinite(p.y))
    const coords = points.map((p) => `${num(s.x(p.x))},${num(s.y(p.y))}`).join(' ')
    const dash = series.reference ? ' stroke-dasharray="6 4"' : ''
    const out = [`<g class="series" data-name="${escapeXml(series.name)}">`]
    if (points.length > 1)
      out.push(`<polyline points="${coords}" fill="none" stroke="${stroke}" stroke-width="2"${dash}/>`)
    series.points.forEach((p, pi) => {
      const label = labels.get(`${si}:${pi}`)
      if (!label) return
      out.push(
        `<circle cx="${num(s.x(p.x))}" cy="${num(s.y(p.y))}" r="3.5" fill="${stroke}"/>`,
        `<text class="value" x="${num(label.x)}" y="${num(label.y)}" text-anchor="${label.anchor}" fill="${stroke}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(formatY(p.y))}</text>`,
      )
    })
    out.push('</g>')
    return out
  })
}

/** One row under the title, outside the plot, so that it never hides a point. */
function legend(chart: LineChart): string[] {
  let colour = 0
  let x = MARGIN.left
  return chart.series.flatMap((series) => {
    const stroke = series.reference ? REFERENCE_COLOUR : (PALETTE[colour++ % PALETTE.length] as string)
    const dash = series.reference ? ' stroke-dasharray="6 4"' : ''
    const y = MARGIN.top - 16
    const at = x
    x += 44 + series.name.length * 7
    return [
      `<line x1="${at}" y1="${y}" x2="${at + 18}" y2="${y}" stroke="${stroke}" stroke-width="2"${dash}/>`,
      `<text x="${at + 24}" y="${y}" dominant-baseline="middle">${escapeXml(series.name)}</text>`,
    ]
  })
}

/** The chart as a standalone SVG document (no scripts, no external references). */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 640
  const height = chart.height ?? 360
  const s = scales(chart, width, height)
  const title = escapeXml(chart.title)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}" font-family="sans-serif" font-size="12">`,
    `<title>${title}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${title}</text>`,
    ...axes(chart, s, width, height),
    ...seriesMarks(chart, s),
    ...legend(chart),
    '</svg>',
    '',
  ].join('\n')
}
