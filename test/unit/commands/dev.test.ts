import { describe, expect, it } from 'vitest'
import { runCli } from '../../../src/cli.ts'
import { captureIo } from '../../fixtures/cli-io.ts'

describe('sts-vend dev (arguments)', () => {
  it('when asked for --help, then it prints the options and exit codes and exits 0', async () => {
    const io = captureIo()
    expect(await runCli(['dev', '--help'], io)).toBe(0)
    expect(io.stdout()).toContain('--issuer-port')
    expect(io.stdout()).toContain('--oss-port N       the OSS emulator (default 8786)')
    expect(io.stdout()).toContain('Exit codes')
  })

  it.each([
    [['--port', 'abc']],
    [['--port', '70000']],
    [['--oss-port', '-1']],
    [['--host', '0.0.0.0']],
    [['--nope']],
  ])('when given %j, then it is a usage error (exit 2) with a hint', async (args) => {
    const io = captureIo()
    expect(await runCli(['dev', ...args], io)).toBe(2)
    expect(io.stderr()).toContain('sts-vend dev --help')
  })
})
