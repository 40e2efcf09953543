// `sts-vend dev` as a newcomer runs it: the printed curl lines, pasted as they are, work.
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, freePort, spawnCli } from '../fixtures/processes.ts'

const exec = promisify(execFile)

let dev: CliProcess
let ports: { service: number; issuer: number; emulator: number; oss: number }

async function waitForCurlLines(proc: CliProcess, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const lines = proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('curl '))
    if (lines.length >= 3) return lines
    if (proc.child.exitCode !== null) throw new Error(`dev exited ${proc.child.exitCode}: ${proc.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no curl lines within ${timeoutMs} ms: ${proc.stdout()}`)
}

beforeAll(async () => {
  ports = {
    service: await freePort(),
    issuer: await freePort(),
    emulator: await freePort(),
    oss: await freePort(),
  }
  dev = spawnCli([
    'dev',
    '--port',
    String(ports.service),
    '--issuer-port',
    String(ports.issuer),
    '--emulator-port',
    String(ports.emulator),
    '--oss-port',
    String(ports.oss),
  ])
}, 30_000)

afterAll(async () => {
  await dev?.stop('SIGINT')
})

describe('sts-vend dev', () => {
  it('when started, then the first printed curl line, pasted as is, returns json credentials', async () => {
    const [first] = await waitForCurlLines(dev)
    expect(first).toContain('/v1/credentials')
    const { stdout } = await exec('bash', ['-c', first!], { timeout: 10_000 })
    const body = JSON.parse(stdout)
    expect(body.accessKeyId).toMatch(/^STS\./)
    expect(body).toMatchObject({ bucket: 'examplebucket', prefix: 'users/alice/', rule: 'app-users' })
    expect(body.expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  })

  it('when the ossbrowser and simulate lines are pasted, then they answer as documented', async () => {
    const [, ossbrowser, simulate] = await waitForCurlLines(dev)
    const ob = JSON.parse((await exec('bash', ['-c', ossbrowser!], { timeout: 10_000 })).stdout)
    expect(ob.presetPath).toBe('oss://examplebucket/users/alice/')
    expect(JSON.parse(Buffer.from(ob.authorizationCode, 'base64').toString('utf8')).id).toBe(ob.accessKeyId)
    const sim = JSON.parse((await exec('bash', ['-c', simulate!], { timeout: 10_000 })).stdout)
    expect(sim.checks.map((c: { allowed: boolean }) => c.allowed)).toEqual([true, false])
  })

  it('when sts-vend token asks the running dev issuer, then the token it prints is accepted by the service', async () => {
    const token = spawnCli([
      'token',
      '--sub',
      'bob',
      '--claim',
      'partner="acme"',
      '--issuer',
      `http://127.0.0.1:${ports.issuer}`,
    ])
    const code = await token.exited
    expect(code).toBe(0)
    const jwt = token.stdout().trim()
    const res = await fetch(`http://127.0.0.1:${ports.service}/v1/credentials`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${jwt}` },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      rule: 'partner',
      bucket: 'partnerbucket',
      prefix: 'ingest/bob/',
    })
  })

  it('when a port is taken, then dev exits 1 with a clear message and leaves nothing running', async () => {
    const blocker = createServer()
    const port = await freePort()
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r))
    try {
      const second = spawnCli([
        'dev',
        '--port',
        String(port),
        '--issuer-port',
        '0',
        '--emulator-port',
        '0',
        '--oss-port',
        '0',
      ])
      const code = await second.exited
      expect(code).toBe(1)
      expect(second.stderr()).toContain('cannot listen')
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()))
    }
  })

  it('when Ctrl-C (SIGINT) arrives, then every part stops within 5 s and the exit code is 0', async () => {
    await waitForCurlLines(dev)
    const started = Date.now()
    const code = await dev.stop('SIGINT', 5000)
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow()
    }
  })
})
