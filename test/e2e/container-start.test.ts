// The image's start command without Docker: the runtime stage's files laid out as COPY does, its ENV, its CMD and HEALTHCHECK.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { type Instruction, parseDockerfile } from '../deploy/dockerfile-parse.ts'
import { imageNodeOrSkip } from '../fixtures/node-line.ts'
import { exitOf } from '../fixtures/processes.ts'
import { redisOrSkip, TEST_REDIS_URL } from '../fixtures/redis.ts'
import { bareAppUsers, CLOSED_ISSUER, corpIssuer } from '../fixtures/rules.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const work = mkdtempSync(join(tmpdir(), 'sts-vend-image-'))
const app = join(work, 'app')
const configPath = join(work, 'config.yaml')
// The CMD's flags and the compile cache's directory are those of the image's Node line.
const onImageNode = imageNodeOrSkip('the container start tests')
let instructions: Instruction[] = []
let runtime: Instruction[] = []

function stageOf(all: Instruction[]): Instruction[] {
  const start = all.map((i) => i.keyword).lastIndexOf('FROM')
  return all.slice(start)
}

/** An image path under /app, in the test's layout. */
const inApp = (value: string) => (value.startsWith('/app/') ? join(app, value.slice('/app/'.length)) : value)

/** `ENV A=1 B=2` instructions of a stage (default: the runtime stage) as an object, /app paths laid out. */
function imageEnv(stage: Instruction[] = runtime): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of stage.filter((i) => i.keyword === 'ENV'))
    for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1] as string] = inApp(m[2] as string)
  return env
}

/** The build stage's compile-cache warm-up (`node --input-type=module -e "…"`), run in the layout. */
async function warmCompileCache(): Promise<void> {
  const build = instructions.slice(0, instructions.indexOf(runtime[0] as Instruction))
  const warm = build.find((i) => i.keyword === 'RUN' && i.args.includes('dist/server.js'))
  const [, flag = '', code = ''] = /^node (--input-type=module) -e "([^"]+)"/.exec(warm?.args ?? '') ?? []
  expect(code).toContain("import('./dist/server.js')")
  await promisify(execFile)(process.execPath, [flag, '-e', code], {
    cwd: app,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...imageEnv(build) },
    timeout: 60_000,
  })
}

function execForm(instruction: Instruction | undefined): string[] {
  return JSON.parse(instruction?.args.replace(/^(--\S+\s+)*CMD\s+/, '') ?? 'null') as string[]
}

/** Lays out the runtime stage as its COPY instructions would, with dist/ bundled by scripts/build.mjs. */
async function buildImageLayout(): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [join(root, 'scripts/build.mjs'), '--outdir', join(app, 'dist')],
    { cwd: root, timeout: 120_000 },
  )
  const fromBuild: Record<string, (dest: string) => void | Promise<void>> = {
    '/app/dist': () => {}, // bundled above, as `npm run build` does in the build stage
    '/app/node_modules': (dest) => symlinkSync(join(root, 'node_modules'), dest, 'dir'),
    '/app/package.json': (dest) => cpSync(join(root, 'package.json'), dest),
    '/app/.compile-cache': () => warmCompileCache(),
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
      await place(dest)
    } else cpSync(join(root, source), dest, { recursive: true })
  }
}

let server: ChildProcess | undefined
let serverUrl = ''
let serverOut: () => string = () => ''

/** Starts the image's CMD with the image's ENV on `config`; resolves at its `server.listening` line. */
async function startCmd(config: string): Promise<{ child: ChildProcess; url: string; stdout: () => string }> {
  const [command, ...args] = execForm(runtime.find((i) => i.keyword === 'CMD'))
  expect(command).toBe('node')
  // Only what the image sets, plus the config override and the flag the Kubernetes Deployment sets:
  // nothing (no AccessKey) leaks in from the test's own environment.
  const child = spawn(process.execPath, args, {
    cwd: app,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      ...imageEnv(),
      STS_VEND_CONFIG: config,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const deadline = Date.now() + 20_000
  for (;;) {
    const line = out.split('\n').find((l) => l.includes('"server.listening"'))
    if (line) return { child, url: (JSON.parse(line) as { url: string }).url, stdout: () => out }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`dist/server.js did not start: ${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  if (!onImageNode) return
  instructions = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'))
  runtime = stageOf(instructions)
  await buildImageLayout()
  // The image reads /etc/sts-vend/config.yaml; the test points STS_VEND_CONFIG at its own file with the
  // same meaning except loopback and port 0 (tests never bind 0.0.0.0 or a fixed port). The issuer's keys
  // are on a closed loopback port: /healthz does not need them.
  writeFileSync(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      limits: { store: 'memory' },
      issuers: [corpIssuer(CLOSED_ISSUER, { algorithms: ['ES256'] })],
      rules: [bareAppUsers()],
    }),
  )
  const started = await startCmd(configPath)
  server = started.child
  serverUrl = started.url
  serverOut = started.stdout
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

describe.skipIf(!onImageNode)('the container start command', () => {
  it('when dist/server.js runs with the image environment, then it serves /healthz and /openapi.yaml', async () => {
    expect(imageEnv()['NODE_ENV']).toBe('production')
    const health = await fetch(`${serverUrl}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const openapi = await fetch(`${serverUrl}/openapi.yaml`)
    expect(openapi.status).toBe(200)
    expect(await openapi.text()).toMatch(/^openapi: 3/m)
  })

  it('when the image is laid out, then its compile cache holds V8 code for the bundle, where the CMD looks', () => {
    const cache = imageEnv()['NODE_COMPILE_CACHE'] ?? ''
    expect(cache).toBe(join(app, '.compile-cache'))
    // One directory per Node version, architecture and user id, with one file per compiled module.
    const [versionDir, ...others] = readdirSync(cache)
    expect(others).toEqual([])
    expect(versionDir).toMatch(new RegExp(`^${process.version}-`))
    expect(readdirSync(join(cache, versionDir as string)).length).toBeGreaterThanOrEqual(2)
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
    const exited = exitOf(proc)
    proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(serverOut()).toContain('"server.stopping"')
  })
})

describe.skipIf(!onImageNode)('the container start command with Redis', () => {
  it('when the config puts the limits and the fleet in Redis, then the bundle loads the Redis client and serves', async (ctx) => {
    if (!(await redisOrSkip(TEST_REDIS_URL, 'the bundle-with-Redis start'))) return ctx.skip()
    const keyFile = join(work, 'cache.key')
    writeFileSync(keyFile, randomBytes(32).toString('base64'))
    const redisConfig = join(work, 'config-redis.yaml')
    const doc = parse(readFileSync(configPath, 'utf8'))
    doc.limits = { store: 'redis', redisUrl: TEST_REDIS_URL }
    doc.fleet = {
      redisUrl: TEST_REDIS_URL,
      cacheKeyFile: keyFile,
      keyPrefix: `sts-vend-test:bundle:${process.pid}:`,
    }
    writeFileSync(redisConfig, stringify(doc))
    // The Redis client is a chunk of its own in the bundle, loaded by import() only for such a config.
    const { child, url, stdout: out } = await startCmd(redisConfig)
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      const denied = await fetch(`${url}/v1/credentials`)
      expect(denied.status).toBe(401)
      // The per-IP limiter answered through Redis: its headers are there.
      expect(denied.headers.get('ratelimit')).toMatch(/remaining=/)
      expect(out()).not.toContain('process.crashed')
    } finally {
      child.kill('SIGKILL')
    }
  })
})
