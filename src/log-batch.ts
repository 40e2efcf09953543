// A log destination that hands the lines of one event-loop turn to the real stream in one write.

/** What batchedDestination writes into: pino.destination()'s SonicBoom, or anything that writes strings. */
export interface LineSink {
  write(chunk: string): unknown
  flush?(cb?: (err?: Error | null) => void): void
  flushSync?(): void
}

export interface BatchedDestination {
  write(line: string): void
  /** Hands pending lines over now, then flushes the sink (pino's logger.flush() calls this). */
  flush(cb?: (err?: Error | null) => void): void
  /** Hands pending lines over and writes everything synchronously (process exit, a crash). */
  flushSync(): void
}

/**
 * Collects lines and writes them to `sink` once per event-loop turn (setImmediate): one audit line per
 * request otherwise meant one fs.write per request, a thread-pool hand-off and a context switch each
 * (about 5 µs of CPU per request at c=50, measured). Order is kept and nothing is dropped; the sink keeps
 * its own back-pressure and EAGAIN handling. At process exit, lines still pending are written
 * synchronously, so a line logged just before `process.exit()` is not lost.
 */
export function batchedDestination(sink: LineSink): BatchedDestination {
  let pending: string[] = []
  let scheduled = false
  const handOver = () => {
    scheduled = false
    if (pending.length === 0) return
    const chunk = pending.length === 1 ? (pending[0] as string) : pending.join('')
    pending = []
    sink.write(chunk)
  }
  const flushSync = () => {
    handOver()
    sink.flushSync?.()
  }
  const destination: BatchedDestination = {
    write(line) {
      pending.push(line)
      if (!scheduled) {
        scheduled = true
        setImmediate(handOver)
      }
    },
    flush(cb) {
      handOver()
      if (sink.flush) sink.flush(cb)
      else cb?.()
    },
    flushSync,
  }
  if (live.size === 0) process.once('exit', flushAllAtExit)
  live.add(() => pending.length > 0 && flushSync())
  return destination
}

/** Every destination's exit flush; one process 'exit' listener for all of them. */
const live = new Set<() => unknown>()

function flushAllAtExit(): void {
  for (const flush of live) {
    try {
      flush()
    } catch {
      // Nothing can be reported at exit: pino's own exit hook may have closed the sink already.
    }
  }
}
