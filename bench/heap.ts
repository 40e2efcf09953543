// `npm run bench:heap [-- N …]` (issue 22): bytes of heap per warm caller across every cache, by heap snapshot.
//   HEAP_CALLERS=10000,100000   caller counts (or pass them as arguments); default 10000
//   HEAP_NODE_ARGS="--max-old-space-size=192"   node flags of the service (a 256 MiB container)
//   HEAP_BREAKDOWN=0|1          skip or force the heap snapshots (default: up to 20,000 callers)
//   HEAP_CHECKOUT=1             run the checkout through tsx instead of dist/ as the container does
import { measurePerCaller, type PerCallerFigures } from './lib/heap.ts'

const log = (text: string) => process.stderr.write(`bench:heap: ${text}\n`)
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

function render(rows: readonly PerCallerFigures[], nodeArgs: readonly string[]): string {
  const lines = [
    `## Heap per caller (${new Date().toISOString()}, node ${process.version}${nodeArgs.length ? `, ${nodeArgs.join(' ')}` : ''})`,
    '',
    '| callers | 200s | AssumeRole | heapUsed after GC, per caller | heap snapshot, per caller | heapUsed 0 → N | peak RSS (VmHWM) |',
    '|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.callers.toLocaleString('en')} | ${r.ok} | ${r.assumeRoleCalls} | ${r.bytesPerCaller.toFixed(0)} B | ${r.snapshotBytesPerCaller?.toFixed(0) ?? '–'} B | ${mib(r.heapUsedBefore)} → ${mib(r.heapUsedAfter)} | ${mib(r.peakRssBytes)} |`,
    )
  }
  for (const r of rows) {
    if (!r.breakdown) continue
    lines.push(
      '',
      `Growth by type at ${r.callers.toLocaleString('en')} callers (self size, bytes per caller):`,
      '',
    )
    for (const b of r.breakdown) lines.push(`- ${b.kind}: ${b.bytesPerCaller.toFixed(0)}`)
  }
  return `${lines.join('\n')}\n`
}

async function main(): Promise<void> {
  const given = process.argv.slice(2).length
    ? process.argv.slice(2)
    : (process.env['HEAP_CALLERS'] ?? '10000').split(',')
  const counts = given.map(Number).filter((n) => Number.isInteger(n) && n > 0)
  if (counts.length === 0) throw new TypeError('caller counts must be positive integers')
  const nodeArgs = (process.env['HEAP_NODE_ARGS'] ?? '').split(' ').filter(Boolean)
  const rows: PerCallerFigures[] = []
  for (const callers of counts) {
    rows.push(
      await measurePerCaller({
        callers,
        nodeArgs,
        ...(process.env['HEAP_BREAKDOWN'] === undefined
          ? {}
          : { breakdown: process.env['HEAP_BREAKDOWN'] !== '0' }),
        image: process.env['HEAP_CHECKOUT'] !== '1',
        log,
      }),
    )
  }
  process.stdout.write(render(rows, nodeArgs))
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
main().catch((err: unknown) => {
  process.stderr.write(
    `bench:heap: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exit(1)
})
