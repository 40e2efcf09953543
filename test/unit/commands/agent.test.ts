import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../../src/cli.ts'
import { createAgentCommand } from '../../../src/commands/agent.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { captureIo } from '../../fixtures/cli-io.ts'
import { type CredentialsStub, startCredentialsStub } from '../../fixtures/credentials-stub.ts'

const _root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const dir = mkdtempSync(join(tmpdir(), 'sts-vend-agent-cmd-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tokenFile = join(dir, 'token')
writeFileSync(tokenFile, 'jwt-one\n')

const capture = captureIo

let stub: CredentialsStub
beforeEach(async () => {
  stub = await startCredentialsStub()
  stub.accept('jwt-one')
})
afterEach(() => stub.close())

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('sts-vend agent', () => {
  it('when started, then it prints {"agent": URL} and serves until told to stop, then exits 0', async () => {
    let stop: () => void = () => {}
    const stopped = new Promise<void>((resolve) => {
      stop = resolve
    })
    const command = createAgentCommand({ untilStop: () => stopped, logger: createCapturingLogger().logger })
    const io = capture()
    const running = command.run(
      ['--server', stub.url, '--token-file', tokenFile, '--rule', 'ci', '--role-name', 'ci-role'],
      io,
    )
    await until(() => io.stdout().includes('\n'))
    const { agent } = JSON.parse(io.stdout()) as { agent: string }
    expect(agent).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${agent}/latest/meta-data/ram/security-credentials/ci-role`)
    expect(res.status).toBe(200)
    expect(stub.hits[0]).toMatchObject({ bearer: 'jwt-one', query: { format: 'json', rule: 'ci' } })
    stop()
    expect(await running).toBe(0)
    await expect(fetch(`${agent}/credentials`)).rejects.toThrow()
  })

  it.each([
    ['no --server', ['--token-file', tokenFile]],
    ['no --token-file', ['--server', 'http://127.0.0.1:1']],
    [
      'a non-loopback --host',
      ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, '--host', '0.0.0.0'],
    ],
    ['a LAN --host', ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, '--host', '10.1.2.3']],
    ['a bad --port', ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, '--port', '70000']],
    [
      'plain http to a remote --server',
      ['--server', 'http://sts-vend.example.com', '--token-file', tokenFile],
    ],
    ['a relative --server', ['--server', 'sts-vend.example.com', '--token-file', tokenFile]],
    [
      'a bad --role-name',
      ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, '--role-name', 'a b'],
    ],
    ['an unknown flag', ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, '--verbose']],
    ['a stray argument', ['--server', 'http://127.0.0.1:1', '--token-file', tokenFile, 'now']],
  ])('when given %s, then exit 2 with a usage message on stderr', async (_n, args) => {
    const io = capture()
    expect(await runCli(['agent', ...args], io)).toBe(2)
    expect(io.stdout()).toBe('')
    expect(io.stderr()).toMatch(/^sts-vend agent: .+\nRun 'sts-vend agent --help'\.\n$/)
  })

  it('when the token file cannot be read, then exit 1 naming it', async () => {
    const io = capture()
    const missing = join(dir, 'missing-token')
    expect(await runCli(['agent', '--server', stub.url, '--token-file', missing], io)).toBe(1)
    expect(io.stderr()).toContain(missing)
  })

  it('when the port is taken, then exit 1', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = busy.address() as AddressInfo
      const io = capture()
      const command = createAgentCommand({ logger: createCapturingLogger().logger })
      expect(
        await command.run(['--server', stub.url, '--token-file', tokenFile, '--port', String(port)], io),
      ).toBe(1)
      expect(io.stderr()).toContain('EADDRINUSE')
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()))
    }
  })

  it('when --help, then usage with every option, the served paths and the exit codes', async () => {
    const io = capture()
    expect(await runCli(['agent', '--help'], io)).toBe(0)
    for (const text of [
      'Usage: sts-vend agent',
      '--server',
      '--token-file',
      '--port',
      '--host',
      '--role-name',
      '--rule',
      '--prefix',
      '--access',
      'GET /credentials',
      '/latest/meta-data/ram/security-credentials/',
      'PUT /latest/api/token',
      'ALIBABA_CLOUD_CREDENTIALS_URI',
      'Exit codes',
    ])
      expect(io.stdout()).toContain(text)
  })
})
