// Cold starts and idle memory: `sts-vend serve` to its first 200 against `node -e "require('express')"` and bare express.
import { join } from 'node:path'
import type { ImageLayout } from './build.ts'
import { memoryBytes, spawnNode, taskCpuNanos, waitForOk } from './proc.ts'
import { freePort, startService } from './stack.ts'
import { median } from './stats.ts'

export interface StartSample {
  /** Milliseconds from spawn to exit (require) or to the first 200 on /healthz (servers). */
  ms: number
  /** CPU time of all threads to exit (require) or to the first 200 (servers), ms. */
  cpuMs: number
  /** Resident memory one second after the first 200 (0 for `require`). */
  idleRssBytes: number
}

export interface ColdStarts {
  requireExpress: StartSample[]
  bareExpress: StartSample[]
  /** The image's CMD (`node <flags> dist/server.js`, the bundle, its compile cache warm), as the container runs it. */
  vendImage: StartSample[]
  /** `node bin/sts-vend.js serve` in a checkout (TypeScript through tsx, its cache warm). */
  vendSource: StartSample[]
  medians: Record<'requireExpress' | 'bareExpress' | 'vendImage' | 'vendSource', StartSample>
}

export interface StartOptions {
  runs: number
  core: number | null
  bodyFile: string
  image: ImageLayout
  config: (port: number) => Record<string, unknown>
  logDir: string
}

const settle = () => new Promise((r) => setTimeout(r, 1000))

/** `require('express')`, then at exit the process's own CPU time (getrusage: all threads) on stdout. */
const REQUIRE_EXPRESS =
  "require('express'); process.on('exit', () => { const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000)) })"

async function requireExpress(core: number | null): Promise<StartSample> {
  const started = performance.now()
  const proc = spawnNode(['-e', REQUIRE_EXPRESS], { core })
  await proc.exited
  return { ms: performance.now() - started, cpuMs: Number(proc.stdout()), idleRssBytes: 0 }
}

async function bareExpress(core: number | null, bodyFile: string): Promise<StartSample> {
  const port = await freePort()
  const started = performance.now()
  const proc = spawnNode(['bench/servers/bare-express.js', String(port), bodyFile], {
    core,
    env: { NODE_ENV: 'production' },
  })
  await waitForOk(`http://127.0.0.1:${port}/healthz`, proc)
  const ms = performance.now() - started
  const cpuMs = taskCpuNanos(proc.pid) / 1e6
  await settle()
  const idleRssBytes = memoryBytes(proc.pid)
  await proc.stop()
  return { ms, cpuMs, idleRssBytes }
}

async function vend(options: StartOptions, image: boolean, run: number): Promise<StartSample> {
  const service = await startService(options.config(await freePort()), {
    core: options.core,
    ...(image ? { image: options.image } : {}),
    stdoutFile: join(options.logDir, `start-${image ? 'image' : 'source'}-${run}.log`),
  })
  await settle()
  const idleRssBytes = memoryBytes(service.proc.pid)
  await service.proc.stop()
  return { ms: service.startMs, cpuMs: service.startCpuMs, idleRssBytes }
}

const medianSample = (samples: StartSample[]): StartSample => ({
  ms: median(samples.map((s) => s.ms)),
  cpuMs: median(samples.map((s) => s.cpuMs)),
  idleRssBytes: median(samples.map((s) => s.idleRssBytes)),
})

/** Measures each program `runs` times, interleaved. The source form runs once first to fill the tsx cache. */
export async function measureColdStarts(options: StartOptions): Promise<ColdStarts> {
  await vend(options, false, -1)
  const out: Omit<ColdStarts, 'medians'> = {
    requireExpress: [],
    bareExpress: [],
    vendImage: [],
    vendSource: [],
  }
  for (let run = 0; run < options.runs; run++) {
    out.requireExpress.push(await requireExpress(options.core))
    out.bareExpress.push(await bareExpress(options.core, options.bodyFile))
    out.vendImage.push(await vend(options, true, run))
    out.vendSource.push(await vend(options, false, run))
  }
  return {
    ...out,
    medians: {
      requireExpress: medianSample(out.requireExpress),
      bareExpress: medianSample(out.bareExpress),
      vendImage: medianSample(out.vendImage),
      vendSource: medianSample(out.vendSource),
    },
  }
}
