// `npx tsx bench/ab.ts [BASE_DIR]`: bare express and two builds of the service, loaded interleaved with
// scenario (a), or with AB_CALLERS=10000 (b) (bare express then gets the same round-robin tokens).
// BASE_DIR is an app directory from an earlier run (kept and printed); without it, A and B are both this checkout.
// Prints per round and as medians: server CPU µs/request (robust on a shared machine) and 2xx/s over bare express.
import { rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildImageLayout } from './lib/build.ts'
import { type CellResult, type CellTarget, runCell } from './lib/load.ts'
import { canPin, pinSelf, spawnNode, waitForOk } from './lib/proc.ts'
import {
  freePort,
  type Service,
  serviceConfig,
  startBenchIssuer,
  startEmulatorProcess,
  startService,
} from './lib/stack.ts'
import { median } from './lib/stats.ts'

const SECONDS = Number(process.env['AB_SECONDS'] ?? 2)
const ROUNDS = Number(process.env['AB_ROUNDS'] ?? 6)
const CALLERS = Number(process.env['AB_CALLERS'] ?? 0)
/** B runs under `node --cpu-prof`, writing its profile into this directory at exit. */
const PROF_DIR = process.env['AB_PROF_DIR']
/** Extra environment of B as JSON (e.g. '{"LOG_LEVEL":"warn"}'), to price one thing against A. */
const B_ENV = JSON.parse(process.env['AB_B_ENV'] ?? '{}') as Record<string, string>
const log = (text: string) => process.stderr.write(`ab: ${text}\n`)

async function main(): Promise<void> {
  const pinned = canPin(availableParallelism()) && pinSelf(1)
  const serverCore = pinned ? 0 : null
  const layout = await buildImageLayout()
  const baseDir = process.argv[2] ?? layout.dir
  log(`A = ${baseDir}, B = ${layout.dir} (this checkout)`)
  const issuer = await startBenchIssuer()
  const emu = await startEmulatorProcess(pinned ? 1 : null, { throttlePerSecond: 1_000_000 })
  const solo = await issuer.mint('solo')
  const callers = CALLERS > 0 ? await issuer.mintMany('caller-', CALLERS) : [solo]
  const start = async (
    dir: string,
    name: string,
    nodeArgs: string[] = [],
    env: Record<string, string> = {},
  ): Promise<Service> =>
    startService(
      serviceConfig({ port: await freePort(), emulatorUrl: emu.url, issuer, maxCallsPerSecond: 100_000 }),
      {
        core: serverCore,
        image: { ...layout, dir },
        stdoutFile: join(tmpdir(), `ab-${process.pid}-${name}.log`),
        nodeArgs,
        env,
      },
    )
  const a = await start(baseDir, 'a')
  const b = await start(layout.dir, 'b', PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : [], B_ENV)
  const sample = (await (
    await fetch(`${a.url}/v1/credentials`, { headers: { authorization: `Bearer ${solo}` } })
  ).json()) as Record<string, unknown>
  const bodyFile = join(tmpdir(), `ab-${process.pid}-body.json`)
  writeFileSync(
    bodyFile,
    JSON.stringify(
      Object.fromEntries(
        Object.entries(sample).map(([k, v]) => [k, typeof v === 'string' ? 'x'.repeat(v.length) : v]),
      ),
    ),
  )
  const barePort = await freePort()
  const bare = spawnNode(['bench/servers/bare-express.js', String(barePort), bodyFile], {
    core: serverCore,
    env: { NODE_ENV: 'production' },
  })
  await waitForOk(`http://127.0.0.1:${barePort}/healthz`, bare)
  const none = async () => 0
  log(`pids: bare ${bare.pid}, A ${a.proc.pid}, B ${b.proc.pid}`)
  const targets: CellTarget[] = [
    { name: 'bare', url: `http://127.0.0.1:${barePort}`, pid: bare.pid, assumeRoleCalls: none },
    { name: 'A', url: a.url, pid: a.proc.pid, assumeRoleCalls: none },
    { name: 'B', url: b.url, pid: b.proc.pid, assumeRoleCalls: none },
  ]
  // With AB_CALLERS, every caller is served once first (one AssumeRole each): the (b) cache is warm.
  for (const t of targets) {
    if (callers.length > 1) await runCell(t, { connections: 50, amount: callers.length, tokens: callers })
    await runCell(t, { connections: 50, seconds: 2, tokens: callers })
  }
  const results = new Map<string, CellResult[]>(targets.map((t) => [t.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = []
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
      const r = await runCell(t, { connections: 50, seconds: SECONDS, tokens: callers })
      results.get(t.name)?.push(r)
      line.push(`${t.name} ${r.okPerSec.toFixed(0)}/s ${r.cpuMicrosPerRequest.toFixed(0)}µs`)
    }
    log(`round ${round + 1}: ${line.join(', ')}`)
  }
  const bareOk = median((results.get('bare') ?? []).map((r) => r.okPerSec))
  for (const t of targets) {
    const list = results.get(t.name) ?? []
    const ok = median(list.map((r) => r.okPerSec))
    const cpu = median(list.map((r) => r.cpuMicrosPerRequest))
    const non2xx = list.reduce((n, r) => n + r.non2xx + r.errors, 0)
    process.stdout.write(
      `${t.name.padEnd(5)} ${ok.toFixed(0).padStart(6)} 2xx/s  ratio ${(ok / bareOk).toFixed(2)}  CPU ${cpu.toFixed(1)} µs/req  non2xx+errors ${non2xx}\n`,
    )
  }
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; B kept at ${layout.dir}\n`,
  )
  for (const p of [a.proc, b.proc, bare, emu.proc]) await p.stop()
  await issuer.close()
  // The services' stdout (one audit line per request, ~100 MiB a run) and the body file go; B's build stays.
  for (const name of ['a.log', 'b.log', 'body.json'])
    rmSync(join(tmpdir(), `ab-${process.pid}-${name}`), { force: true })
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`ab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
