// A memory cgroup with a limit, as a container runtime makes one: the bench runs the service inside it to
// measure "the container's default settings" (Node reads the limit as process.constrainedMemory(), and the
// image's --max-old-space-size-percentage sizes V8's old space from it). cgroup v1 and v2; null when this
// machine does not let us make one (no permission, no memory controller).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface MemoryCgroup {
  dir: string
  limitBytes: number
  /** Times the limit was hit (v1 memory.failcnt, v2 memory.events `max`). */
  limitHits(): number
  /** Processes killed by the OOM killer inside it (v2 memory.events `oom_kill`; v1: oom_control). */
  oomKills(): number
  remove(): void
}

/** This process's own memory cgroup directory, v1 (`N:memory:/path`) or v2 (`0::/path`). */
function ownCgroupDir(): { dir: string; v2: boolean } | null {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')
  const v1 = lines
    .map((l) => l.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('memory'))
  if (v1?.[2] !== undefined && existsSync('/sys/fs/cgroup/memory')) {
    return { dir: join('/sys/fs/cgroup/memory', v1[2]), v2: false }
  }
  const v2 = lines.find((l) => l.startsWith('0::'))
  if (v2 && existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return { dir: join('/sys/fs/cgroup', v2.slice(3)), v2: true }
  }
  return null
}

const counter = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)

/** Makes a child memory cgroup limited to `limitBytes`, or null when this machine does not allow it. */
export function createMemoryCgroup(
  limitBytes: number,
  name = `sts-vend-bench-${process.pid}`,
): MemoryCgroup | null {
  const own = ownCgroupDir()
  if (!own) return null
  const dir = join(own.dir, name)
  try {
    mkdirSync(dir)
    if (own.v2) writeFileSync(join(dir, 'memory.max'), String(limitBytes))
    else writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes))
  } catch {
    try {
      rmdirSync(dir)
    } catch {}
    return null
  }
  const events = () => readFileSync(join(dir, own.v2 ? 'memory.events' : 'memory.oom_control'), 'utf8')
  return {
    dir,
    limitBytes,
    limitHits: () =>
      own.v2 ? counter(events(), 'max') : Number(readFileSync(join(dir, 'memory.failcnt'), 'utf8').trim()),
    oomKills: () => counter(events(), 'oom_kill'),
    remove: () => {
      try {
        rmdirSync(dir)
      } catch {
        // A process still inside keeps it; the next run uses another name.
      }
    },
  }
}

/** The command line that puts the process into `dir` before it execs (so Node sees the limit at start). */
export function insideCgroup(dir: string, command: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, command, ...args]]
}
