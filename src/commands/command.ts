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
