// README blocks marked `<!-- runnable: KIND [exit=N] [expect="..."]... -->`, and the placeholders they share with a test run.

/** One marked block: what to run, how it must end and what its output must contain. */
export interface RunnableBlock {
  /** dev-output | dev-answer | dev | dev-node | offline */
  kind: string
  exit: number
  expects: string[]
  lang: string
  code: string
  /** 1-based line of the marker in the README, for messages. */
  line: number
}

const MARKER = /^<!-- runnable: ([a-z-]+)((?:\s+(?:exit=\d+|expect="(?:[^"\\]|\\.)*"))*)\s*-->$/

/** Every marked block of `markdown`, in order. Throws on a marker not followed by a fenced block. */
export function runnableBlocks(markdown: string): RunnableBlock[] {
  const lines = markdown.split('\n')
  const blocks: RunnableBlock[] = []
  lines.forEach((text, i) => {
    if (!text.startsWith('<!-- runnable')) return
    const m = MARKER.exec(text.trim())
    const fence = /^```(\w+)$/.exec(lines[i + 1] ?? '')
    if (!m?.[1] || !fence?.[1]) throw new Error(`README.md:${i + 1}: malformed runnable marker or no block`)
    const end = lines.findIndex((l, j) => j > i + 1 && l === '```')
    if (end === -1) throw new Error(`README.md:${i + 1}: unterminated block`)
    const attrs = m[2] ?? ''
    blocks.push({
      kind: m[1],
      exit: Number(/exit=(\d+)/.exec(attrs)?.[1] ?? 0),
      expects: [...attrs.matchAll(/expect="((?:[^"\\]|\\.)*)"/g)].map((e) =>
        (e[1] ?? '').replace(/\\(.)/g, '$1'),
      ),
      lang: fence[1],
      code: lines.slice(i + 2, end).join('\n'),
      line: i + 1,
    })
  })
  return blocks
}

/** The dev ports the README documents (`sts-vend dev --help`) and the agent port of its example. */
export const DOCUMENTED_PORTS = {
  oss: 8786,
  service: 8787,
  issuer: 8788,
  emulator: 8789,
  agent: 8790,
} as const
export type PortName = keyof typeof DOCUMENTED_PORTS

/** The README's shortened token: `eyJhbGciOi…` stands for the dev token printed by `sts-vend dev`. */
export const TOKEN_PLACEHOLDER = 'eyJhbGciOi…'

/** Rewrites the README's documented ports to `ports`, the token placeholder to `token`, and `npx sts-vend` to `cli`. */
export function substitute(
  code: string,
  values: { ports: Record<PortName, number>; token: string; cli: string },
): string {
  const byPort = new Map<number, number>(
    Object.entries(DOCUMENTED_PORTS).map(([name, port]) => [port, values.ports[name as PortName]]),
  )
  return code
    .replace(/(127\.0\.0\.1:|localhost:|--port )(\d{4})\b/g, (all, before: string, port: string) =>
      byPort.has(Number(port)) ? `${before}${byPort.get(Number(port))}` : all,
    )
    .replaceAll(TOKEN_PLACEHOLDER, values.token)
    .replace(/\bnpx sts-vend\b/g, values.cli)
}

/** A README sample line as a regex: `…` stands for anything, everything else is literal. */
export function sampleLine(line: string): RegExp {
  const parts = line.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`)
}
