import { describe, expect, it } from 'vitest'
import { runCli } from '../../../src/cli.ts'

function io() {
  let out = ''
  let err = ''
  return {
    io: {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
      env: {} as NodeJS.ProcessEnv,
    },
    out: () => out,
    err: () => err,
  }
}

describe('sts-vend dev (arguments)', () => {
  it('when asked for --help, then it prints the options and exit codes and exits 0', async () => {
    const c = io()
    expect(await runCli(['dev', '--help'], c.io)).toBe(0)
    expect(c.out()).toContain('--issuer-port')
    expect(c.out()).toContain('Exit codes')
  })

  it.each([[['--port', 'abc']], [['--port', '70000']], [['--host', '0.0.0.0']], [['--nope']]])(
    'when given %j, then it is a usage error (exit 2) with a hint',
    async (args) => {
      const c = io()
      expect(await runCli(['dev', ...args], c.io)).toBe(2)
      expect(c.err()).toContain('sts-vend dev --help')
    },
  )
})
