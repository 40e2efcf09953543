// Child processes for the bench and the soak: pinned to a core with taskset, measured through /proc.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { insideCgroup } from './cgroup.ts'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** True when `taskset` exists and this machine has at least two cores to split. */
export function canPin(cores: number): boolean {
  return cores >= 2 && spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0
}

/** Pins this very process (the load generator) to `core`; false when that is not possible. */
export function pinSelf(core: number): boolean {
  return (
    spawnSync('taskset', ['-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' }).status === 0
  )
}

/** CPU time (user + system) the process has used, in microseconds (resolution: one clock tick). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1e6) / TICKS_PER_SECOND
}

/** CPU time on all of the process's threads so far, in ns (/proc/<pid>/task/<tid>/schedstat, first field). */
export function taskCpuNanos(pid: number): number {
  let total = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total
}

/** A `VmRSS`-style field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: peak resident). */
export function memoryBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  return match ? Number(match[1]) * 1024 : 0
}

export interface Child {
  child: ChildProcess
  pid: number
  /** stdout so far (kept in memory unless `stdoutFile` was given). */
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
  /** Sends `signal` and resolves with the exit code; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
}

export interface SpawnOptions {
  /** Pin to this core with taskset (ignored when null). */
  core: number | null
  /** Default: the repository root. */
  cwd?: string
  env?: NodeJS.ProcessEnv
  /**
   * The child writes its stdout straight into this file (no pipe through this process, which is busy
   * generating load): how a service logging one line per request is measured and scanned.
   */
  stdoutFile?: string
  /** Drain stdout and keep only its last 64 KiB (a service logging one line per request under load). */
  discardStdout?: boolean
  /** Start inside this cgroup directory (cgroup.ts: a container's memory limit), before node runs. */
  cgroupDir?: string
}

const KEEP_TAIL = 64 * 1024

// Children still running when this process exits (a failed run) are killed with it, never left behind.
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Spawns `node args…` from the repository root; with a core, `taskset -c core node …` (same pid: taskset execs). */
export function spawnNode(args: readonly string[], options: SpawnOptions): Child {
  const pinned = options.core === null ? null : ['-c', String(options.core), process.execPath, ...args]
  const [command, argv] = options.cgroupDir
    ? insideCgroup(options.cgroupDir, pinned ? 'taskset' : process.execPath, pinned ?? args)
    : [pinned ? 'taskset' : process.execPath, pinned ?? [...args]]
  const fd = options.stdoutFile ? openSync(options.stdoutFile, 'w') : null
  const child = spawn(command, argv, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd ?? 'pipe', 'pipe'],
  })
  if (fd !== null) closeSync(fd)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8')
    if (options.discardStdout && out.length > 2 * KEEP_TAIL) out = out.slice(-KEEP_TAIL)
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8')
  })
  live.add(child)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child)
      resolve(code)
    }),
  )
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`)
  const pid = child.pid
  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** Resolves with the first stdout line that parses as a JSON object (the emulator's ready line). */
export async function firstJsonLine(proc: Child, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const line of proc.stdout().split('\n')) {
      if (!line.startsWith('{')) continue
      try {
        return JSON.parse(line) as Record<string, unknown>
      } catch {
        // a partial line: wait for the rest
      }
    }
    if (proc.child.exitCode !== null)
      throw new Error(`process exited ${proc.child.exitCode}: ${proc.stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`no JSON line within ${timeoutMs} ms: ${proc.stderr()}`)
}

/** Polls `url` every `intervalMs` until it answers 200; resolves with the milliseconds waited. */
export async function waitForOk(
  url: string,
  proc: Child,
  timeoutMs = 30_000,
  intervalMs = 5,
): Promise<number> {
  const started = performance.now()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`process exited ${proc.child.exitCode}: ${proc.stderr()}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return performance.now() - started
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${proc.stderr()}`)
}

/** A free loopback port (bound, then released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The `model name` of the first CPU in /proc/cpuinfo. */
export function cpuModel(): string {
  if (!existsSync('/proc/cpuinfo')) return 'unknown'
  return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown'
}
