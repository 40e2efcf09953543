// What every sts-vend command shares: the Command shape, its IO, exit codes and the usage error.

/** 0 success, 1 invalid config or input, 2 usage error, 3 denied (explain). */
export const EXIT = { ok: 0, invalid: 1, usage: 2, denied: 3 } as const

/** A usage mistake (unknown option, missing argument): exit 2 with the command's hint. */
export class UsageError extends Error {}

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
  env: NodeJS.ProcessEnv
}

export interface Command {
  summary: string
  help: string
  run(argv: string[], io: CliIo): Promise<number>
}

/** A `--port` value: 0-65535 (0 picks a free port); anything else is a usage error naming the option. */
export function parsePort(text: string, option = '--port'): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new UsageError(`${option} must be 0-65535, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** Resolves with the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
