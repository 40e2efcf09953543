// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
// bin/sts-vend.js as a real process: check-config, explain, token and agent exit codes and output.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type DevIssuer, startDevIssuer } from '../../src/dev/issuer.ts'
import { type CredentialsStub, startCredentialsStub } from '../fixtures/credentials-stub.ts'
import { exitOf } from '../fixtures/processes.ts'
import { appUsers, CORP_ISS, configDoc } from '../fixtures/rules.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const bin = join(root, 'bin/sts-vend.js')
const dir = mkdtempSync(join(tmpdir(), 'sts-vend-cli-bin-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function run(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...argv], { timeout: 30_000, cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr })
    })
  })
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('check-config', () => {
  it('when it runs on examples/config.yaml, then it exits 0 with one summary line', async () => {
    const r = await run('check-config', 'examples/config.yaml')
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(r.stdout).toContain('examples/config.yaml: ok — 2 issuer(s), 3 rule(s)')
    expect(r.stderr).toBe('')
  })

  it('when it runs on an invalid file, then it exits 1 with the problems on stderr', async () => {
    const invalid = file('invalid.yaml', 'limits:\n  perip: { limit: 10 }\n')
    const r = await run('check-config', invalid)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('limits: unknown key: perip')
    expect(r.stdout).toBe('')
  })
})

describe('explain', () => {
  const config = file(
    'config.yaml',
    stringify(
      configDoc([
        appUsers({
          id: 'admins',
          when: { groups: { contains: 'admins' } },
          oss: { prefix: 'admin/${sub}/' },
        }),
        appUsers({ conditions: { sourceIp: 'request', secureTransport: true } }),
      ]),
    ),
  )
  const badConfig = file('bad.yaml', stringify(configDoc([appUsers({ oss: { prefix: 'users/*/${sub}/' } })])))
  const aliceClaims = file(
    'alice.json',
    JSON.stringify({ iss: CORP_ISS, sub: 'alice', groups: ['photo-app'] }),
  )
  const bobClaims = file('bob.json', JSON.stringify({ iss: CORP_ISS, sub: 'bob', groups: [] }))

  it('when run as a process, then the exit codes are 0 allowed, 3 denied, 1 invalid input, 2 usage', async () => {
    const results = await Promise.all([
      run('explain', '--config', config, '--claims', aliceClaims, '--check', 'oss:GetObject:users/alice/a'),
      run('explain', '--config', config, '--claims', bobClaims),
      run(
        'explain',
        '--config',
        config,
        '--claims',
        aliceClaims,
        '--check',
        'oss:DeleteObject:users/alice/a',
      ),
      run('explain', '--config', badConfig, '--claims', aliceClaims),
      run('explain', '--config', config),
    ])
    expect(results.map((r) => r.code)).toEqual([0, 3, 3, 1, 2])
    expect(results[0]?.stdout).toContain('decision: allowed')
    expect(results[3]?.stderr).toContain('rules[0].oss.prefix')
  }, 60_000)

  it('when asked for --help, then it prints the usage and exit codes', async () => {
    const r = await run('explain', '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: sts-vend explain --config FILE --claims FILE')
    expect(r.stdout).toContain('--source-ip IP')
    expect(r.stdout).toContain('Exit codes: 0')
  })
})

describe('token', () => {
  let dev: DevIssuer
  beforeAll(async () => {
    dev = await startDevIssuer()
  })
  afterAll(() => dev.close())

  it('when run as a process, then it prints a token and exits 0', async () => {
    const r = await run('token', '--sub', 'carol', '--claim', 'groups=["x"]', '--issuer', dev.issuer)
    expect(r.code).toBe(0)
    expect(decodeJwt(r.stdout.trim())).toMatchObject({ sub: 'carol', groups: ['x'] })
  })

  it('when run as a process with a bad --claim, then it exits 2', async () => {
    const r = await run('token', '--sub', 'carol', '--claim', 'nothing')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--claim must be NAME=VALUE')
  })
})

describe('agent', () => {
  const tokenFile = file('token', 'jwt-one\n')
  let stub: CredentialsStub
  let child: ChildProcess | undefined
  beforeAll(async () => {
    stub = await startCredentialsStub()
    stub.accept('jwt-one')
  })
  afterAll(() => stub.close())
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
  })

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'when run as a process and sent %s, then it printed one JSON line on stdout and exits 0',
    async (signal) => {
      const proc = spawn(process.execPath, [bin, 'agent', '--server', stub.url, '--token-file', tokenFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child = proc
      let stdout = ''
      let stderr = ''
      proc.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
      })
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const exited = exitOf(proc)
      await until(() => stdout.includes('\n') || proc.exitCode !== null)
      const { agent } = JSON.parse(stdout) as { agent: string }
      const res = await fetch(`${agent}/credentials`)
      expect(res.status).toBe(200)
      proc.kill(signal)
      expect(await exited).toBe(0)
      expect(stdout.trim().split('\n')).toHaveLength(1)
      expect(stderr).toContain('agent.listening')
      for (const secret of ['jwt-one', 'stub-secret', 'stub-security-token'])
        expect(stderr).not.toContain(secret)
    },
  )
})
