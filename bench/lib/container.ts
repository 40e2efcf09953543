// Scenario (b) in the container's default settings (issue 22): the image's CMD in a memory cgroup limited
// to what the Deployment gives the pod (256 MiB), 10,000 callers warmed, then loaded round-robin.
import { join } from 'node:path'
import type { ImageLayout } from './build.ts'
import { createMemoryCgroup } from './cgroup.ts'
import type { BenchIssuer } from './issuer.ts'
import { type CellResult, runCell } from './load.ts'
import { memoryBytes } from './proc.ts'
import { type Emulator, freePort, serviceConfig, startService } from './stack.ts'

/** The Deployment's memory limit (deploy/kubernetes: resources.limits.memory 256Mi). */
export const CONTAINER_LIMIT_BYTES = 256 * 1024 * 1024

export interface ContainerRun {
  limitBytes: number
  callers: number
  warmOk: number
  cell: CellResult
  /** VmHWM of the service at the end. */
  peakRssBytes: number
  /** Still running after the load (the OOM killer did not end it). */
  alive: boolean
  limitHits: number
  oomKills: number
}

export interface ContainerOptions {
  image: ImageLayout
  emulator: Emulator
  issuer: BenchIssuer
  callers: string[]
  core: number | null
  seconds: number
  work: string
}

/** Runs it; null when this machine does not let the bench make a memory cgroup. */
export async function containerRun(options: ContainerOptions): Promise<ContainerRun | null> {
  const cgroup = createMemoryCgroup(CONTAINER_LIMIT_BYTES)
  if (!cgroup) return null
  try {
    const config = serviceConfig({
      port: await freePort(),
      emulatorUrl: options.emulator.url,
      issuer: options.issuer,
      maxCallsPerSecond: 100_000,
    })
    const service = await startService(config, {
      core: options.core,
      image: options.image,
      stdoutFile: join(options.work, 'vend-container.log'),
      cgroupDir: cgroup.dir,
    })
    const target = {
      name: 'vend-container',
      url: service.url,
      pid: service.proc.pid,
      assumeRoleCalls: async () => (await options.emulator.counters()).assumeRoleCalls,
    }
    try {
      const warm = await runCell(target, {
        connections: 50,
        amount: options.callers.length,
        tokens: options.callers,
      })
      await runCell(target, { connections: 50, seconds: 2, tokens: options.callers })
      const cell = await runCell(target, {
        connections: 50,
        seconds: options.seconds,
        tokens: options.callers,
      })
      const alive = service.proc.child.exitCode === null && service.proc.child.signalCode === null
      return {
        limitBytes: CONTAINER_LIMIT_BYTES,
        callers: options.callers.length,
        warmOk: warm.ok,
        cell,
        peakRssBytes: alive ? memoryBytes(service.proc.pid, 'VmHWM') : 0,
        alive,
        limitHits: cgroup.limitHits(),
        oomKills: cgroup.oomKills(),
      }
    } finally {
      await service.proc.stop()
    }
  } finally {
    cgroup.remove()
  }
}
