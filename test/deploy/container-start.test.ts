// The image's start command without Docker: the runtime stage's files laid out as COPY does, its ENV, its CMD and HEALTHCHECK.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Instruction, parseDockerfile } from './dockerfile-parse.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const work = mkdtempSync(join(tmpdir(), 'sts-vend-image-'))
const app = join(work, 'app')
const configPath = join(work, 'config.yaml')
let instructions: Instruction[] = []
let runtime: Instruction[] = []

function stageOf(all: Instruction[]): Instruction[] {
  const start = all.map((i) => i.keyword).lastIndexOf('FROM')
  return all.slice(start)
}

/** `ENV A=1 B=2` instructions of the runtime stage as an object. */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of runtime.filter((i) => i.keyword === 'ENV'))
    for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1] as string] = m[2] as string
  return env
}

function execForm(instruction: Instruction | undefined): string[] {
  return JSON.parse(instruction?.args.replace(/^(--\S+\s+)*CMD\s+/, '') ?? 'null') as string[]
}

/** Lays out the runtime stage as its COPY instructions would, with dist/ compiled by tsc -p tsconfig.build.json. */
async function buildImageLayout(): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(app, 'dist'),
    ],
    { cwd: root, timeout: 120_000 },
  )
  const fromBuild: Record<string, (dest: string) => void> = {
    '/app/dist': () => {}, // compiled above, as `npm run build` does in the build stage
    '/app/node_modules': (dest) => symlinkSync(join(root, 'node_modules'), dest, 'dir'),
    '/app/package.json': (dest) => cpSync(join(root, 'package.json'), dest),
  }
  for (const copy of runtime.filter((i) => i.keyword === 'COPY')) {
    const parts = copy.args.split(/\s+/)
    const from = parts.find((p) => p.startsWith('--from='))
    const [source = '', target = ''] = parts.filter((p) => !p.startsWith('--'))
    const dest =
      target.endsWith('/') || target === './' ? join(app, source.split('/').at(-1) ?? '') : join(app, target)
    if (from) {
      const place = fromBuild[source]
      if (!place) throw new Error(`the test does not know how to lay out COPY ${copy.args}`)
      place(dest)
    } else cpSync(join(root, source), dest, { recursive: true })
  }
}

let server: ChildProcess | undefined
let serverUrl = ''
let stdout = ''

beforeAll(async () => {
  instructions = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'))
  runtime = stageOf(instructions)
  await buildImageLayout()
  // The image reads /etc/sts-vend/config.yaml; the test points STS_VEND_CONFIG at its own file with the
  // same meaning except loopback and port 0 (tests never bind 0.0.0.0 or a fixed port). The issuer's keys
  // are on a closed loopback port: /healthz does not need them.
  writeFileSync(
    configPath,
    `server: { host: 127.0.0.1, port: 0 }
limits: { store: memory }
issuers:
  - id: corp
    issuer: http://127.0.0.1:9/
    audiences: [sts-vend]
    jwksUri: http://127.0.0.1:9/jwks.json
    algorithms: [ES256]
rules:
  - id: app-users
    issuer: corp
    roleArn: acs:ram::1234567890123456:role/oss-app-user
    oss: { bucket: examplebucket, region: cn-hangzhou, prefix: "users/\${sub}/", access: read-write }
`,
  )
  const [command, ...args] = execForm(runtime.find((i) => i.keyword === 'CMD'))
  expect(command).toBe('node')
  // Only what the image sets, plus the config override and the flag the Kubernetes Deployment sets:
  // nothing (no AccessKey) leaks in from the test's own environment.
  server = spawn(process.execPath, args, {
    cwd: app,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      ...imageEnv(),
      STS_VEND_CONFIG: configPath,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  const deadline = Date.now() + 20_000
  for (;;) {
    const line = stdout.split('\n').find((l) => l.includes('"server.listening"'))
    if (line) {
      serverUrl = (JSON.parse(line) as { url: string }).url
      break
    }
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`dist/server.js did not start: ${stdout}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}, 150_000)

afterAll(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
})

function healthcheck(url: string): Promise<number | null> {
  const check = runtime.find((i) => i.keyword === 'HEALTHCHECK')
  const [command, ...args] = execForm(check)
  expect(command).toBe('node')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STS_VEND_HEALTHCHECK_URL: url },
      stdio: 'ignore',
    })
    child.on('exit', (code) => resolve(code))
  })
}

describe('the container start command', () => {
  it('when dist/server.js runs with the image environment, then it serves /healthz and /openapi.yaml', async () => {
    expect(imageEnv()['NODE_ENV']).toBe('production')
    const health = await fetch(`${serverUrl}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const openapi = await fetch(`${serverUrl}/openapi.yaml`)
    expect(openapi.status).toBe(200)
    expect(await openapi.text()).toMatch(/^openapi: 3/m)
  })

  it('when the HEALTHCHECK command runs against it, then it exits 0; against a dead port, 1', async () => {
    expect(await healthcheck(`${serverUrl}/healthz`)).toBe(0)
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    expect(await healthcheck(`http://127.0.0.1:${port}/healthz`)).toBe(1)
  })

  it('when it gets SIGTERM, then it drains and exits 0', async () => {
    const proc = server as ChildProcess
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
    proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stdout).toContain('"server.stopping"')
  })
})
