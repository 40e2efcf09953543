// `sts-vend emulator` as a real process: the JSON line, --tls, signals and exit codes.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { DEV_ACCESS_KEY } from '../../src/emulator/index.ts'
import { control, send, signAcs3 } from '../fixtures/emulator-signer.ts'
import { exitOf } from '../fixtures/processes.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
const running: ChildProcess[] = []

afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL')
})

interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, ['bin/sts-vend.js', 'emulator', ...args], { cwd: root })
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const exited = exitOf(child)
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function firstLine(run: Run): Promise<Record<string, string>> {
  const deadline = Date.now() + 15_000
  while (!run.stdout().includes('\n')) {
    if (Date.now() > deadline || run.child.exitCode !== null)
      throw new Error(`no JSON line; stderr: ${run.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const [line] = run.stdout().split('\n')
  return JSON.parse(line ?? '') as Record<string, string>
}

describe('sts-vend emulator', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'when started with --port 0, then it prints exactly one JSON line {"sts": url, "oss": url} and exits 0 on %s',
    async (signal) => {
      const run = start(['--port', '0'])
      const line = await firstLine(run)
      expect(Object.keys(line)).toEqual(['sts', 'oss'])
      expect(line['sts']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const counters = await control(line['sts'] ?? '', 'GET', '/__counters')
      expect(counters.json).toMatchObject({ assumeRoleCalls: 0 })
      run.child.kill(signal)
      expect(await run.exited).toBe(0)
      expect(run.stdout().trim().split('\n')).toHaveLength(1)
    },
  )

  it('when started without --config, then the bundled default accounts and roles answer AssumeRole', async () => {
    const run = start([])
    const url = (await firstLine(run))['sts'] ?? ''
    const res = await send(
      url,
      signAcs3({
        endpoint: new URL(url).host,
        accessKeyId: DEV_ACCESS_KEY.id,
        secret: DEV_ACCESS_KEY.secret,
        params: { RoleArn: 'acs:ram::1000000000000001:role/oss-app-user', RoleSessionName: 'cli' },
      }),
    )
    expect(res.status).toBe(200)
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
  })

  it('when started with --config FILE, then that config is used, its queued fault included', async () => {
    const run = start(['--config', fixture('emulator-config.yaml'), '--port', '0'])
    const url = (await firstLine(run))['sts'] ?? ''
    const signed = () =>
      signAcs3({
        endpoint: new URL(url).host,
        accessKeyId: 'LTAIcliTestKey09',
        secret: 'cliTestSecret09',
        params: { RoleArn: 'acs:ram::1000000000000009:role/cli-role', RoleSessionName: 'cli' },
      })
    expect((await send(url, signed())).json?.['Code']).toBe('Throttling.User')
    expect((await send(url, signed())).status).toBe(200)
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
  })

  it('when started with --tls, then the URL is https, the CA file is named and trusted connections work', async () => {
    const run = start(['--tls'])
    const line = await firstLine(run)
    expect(Object.keys(line)).toEqual(['sts', 'oss', 'ca'])
    expect(line['sts']).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const ca = readFileSync(line['ca'] ?? '', 'utf8')
    const status = await new Promise<number>((resolve, reject) => {
      httpsGet(`${line['sts']}/__counters`, { ca }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(200)
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
    expect(existsSync(line['ca'] ?? '')).toBe(false)
  })

  it('when the config is invalid, then it exits 1 naming every problem with its path', async () => {
    const run = start(['--config', fixture('emulator-invalid.yaml')])
    expect(await run.exited).toBe(1)
    expect(run.stdout()).toBe('')
    for (const path of ['accounts[0].id', 'accounts[0].roles[0].trust.accounts', 'faults[0].kind'])
      expect(run.stderr()).toContain(path)
  })

  it('when the config file does not exist, then it exits 1', async () => {
    const run = start(['--config', fixture('emulator-missing.yaml')])
    expect(await run.exited).toBe(1)
  })

  it.each([
    ['a port that is not a number', ['--port', 'abc']],
    ['a port above 65535', ['--port', '70000']],
    ['an unknown option', ['--bogus']],
    ['a positional argument', ['extra']],
  ])('when given %s, then it exits 2', async (_, args) => {
    const run = start(args)
    expect(await run.exited).toBe(2)
    expect(run.stderr()).toContain('sts-vend emulator')
  })

  it('when asked for --help, then it prints the usage and exits 0', async () => {
    const run = start(['--help'])
    expect(await run.exited).toBe(0)
    expect(run.stdout()).toMatch(/^Usage: sts-vend emulator/)
    expect(run.stdout()).toContain('NODE_EXTRA_CA_CERTS')
  })
})
