// The README's marked blocks run as written against a real `sts-vend dev` (or offline) in a temp directory.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { README } from '../docs/markdown.ts'
import {
  DOCUMENTED_PORTS,
  type PortName,
  type RunnableBlock,
  runnableBlocks,
  sampleLine,
  substitute,
  TOKEN_PLACEHOLDER,
} from '../docs/runnable.ts'
import { type CliProcess, freePort, ROOT, spawnCli } from '../fixtures/processes.ts'

const CLI = `node ${join(ROOT, 'bin', 'sts-vend.js')}`
const SNIPPET_HEADER = /^ali-oss with alice's credentials/
const BLOCKS = runnableBlocks(README)
const dirs: string[] = []

let dev: CliProcess
let ports: Record<PortName, number>
let banner: string[]
let token: string
let certPath: string

interface Outcome {
  code: number
  output: string
}

/** A fresh directory that looks like the checkout's root to the commands: `examples/` and `node_modules/` link there. */
function checkoutLikeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-readme-'))
  dirs.push(dir)
  for (const name of ['examples', 'node_modules']) symlinkSync(join(ROOT, name), join(dir, name))
  return dir
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 45_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, output: `${stdout}${stderr}` })
    })
  })
}

async function waitForBanner(proc: CliProcess, timeoutMs = 25_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const lines = proc.stdout().split('\n')
    if (lines.some((l) => l.startsWith('console.log((await client.list'))) return lines
    if (proc.child.exitCode !== null) throw new Error(`dev exited ${proc.child.exitCode}: ${proc.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`dev printed no ali-oss snippet within ${timeoutMs} ms: ${proc.stdout()}`)
}

const fill = (code: string) => substitute(code, { ports, token, cli: CLI })

/** The printed ali-oss snippet, with the token and ports written back as the README documents them. */
function printedSnippet(): string {
  const start = banner.findIndex((l) => SNIPPET_HEADER.test(l))
  const back = new Map(
    Object.entries(ports).map(([name, port]) => [port, DOCUMENTED_PORTS[name as PortName]]),
  )
  return banner
    .slice(start + 1)
    .join('\n')
    .trim()
    .replaceAll(token, TOKEN_PLACEHOLDER)
    .replace(/(127\.0\.0\.1|localhost):(\d+)\b/g, (all, host: string, port: string) =>
      back.has(Number(port)) ? `${host}:${back.get(Number(port))}` : all,
    )
}

async function runBlock(block: RunnableBlock): Promise<Outcome> {
  const cwd = checkoutLikeDir()
  if (block.kind === 'dev-node') {
    writeFileSync(join(cwd, 'tour.mjs'), fill(block.code))
    return run(process.execPath, ['tour.mjs'], cwd, { NODE_EXTRA_CA_CERTS: certPath })
  }
  if (block.lang !== 'sh') throw new Error(`README.md:${block.line}: a ${block.kind} block must be sh`)
  return run('bash', ['-c', fill(block.code)], cwd, { TOKEN: token })
}

beforeAll(async () => {
  const names = Object.keys(DOCUMENTED_PORTS) as PortName[]
  ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()]))) as typeof ports
  dev = spawnCli([
    'dev',
    ...['--port', String(ports.service), '--issuer-port', String(ports.issuer)],
    ...['--emulator-port', String(ports.emulator), '--oss-port', String(ports.oss)],
  ])
  banner = await waitForBanner(dev)
  token = banner[banner.findIndex((l) => l.startsWith('A dev token for alice')) + 1] ?? ''
  certPath = /OSS certificate: (\S+)/.exec(banner.join('\n'))?.[1] ?? ''
}, 40_000)

afterAll(async () => {
  await dev?.stop('SIGINT')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('README runnable blocks', () => {
  it('when the README is read, then it marks the tour, token, simulate, agent, ali-oss, explain and check-config blocks', () => {
    const kinds = BLOCKS.map((b) => b.kind)
    for (const kind of ['dev-output', 'dev-answer', 'dev', 'dev-node', 'offline'])
      expect(kinds).toContain(kind)
    expect(BLOCKS.filter((b) => b.kind === 'offline').map((b) => b.code)).toEqual([
      expect.stringContaining('npx sts-vend explain'),
      expect.stringContaining('npx sts-vend check-config'),
    ])
  })

  it('when sts-vend dev starts, then every line of the README sample of its output is printed, in order', () => {
    const sample = BLOCKS.find((b) => b.kind === 'dev-output')
    let at = 0
    const printed = substitute(sample?.code ?? '', { ports, token, cli: 'npx sts-vend' })
    for (const line of printed.split('\n')) {
      if (line === '…' || line === '') continue
      const found = banner.findIndex((l, i) => i >= at && sampleLine(line).test(l))
      expect(found, `README sample line not printed by dev (in order): ${line}`).toBeGreaterThanOrEqual(0)
      at = found + 1
    }
  })

  it('when the first printed curl line is pasted, then the answer has the README sample fields and values', async () => {
    const sample = JSON.parse(BLOCKS.find((b) => b.kind === 'dev-answer')?.code ?? '{}') as Record<
      string,
      unknown
    >
    const curl = banner.find((l) => l.startsWith('curl '))
    const answer = JSON.parse((await run('bash', ['-c', curl ?? 'false'], ROOT)).output)
    expect(Object.keys(answer).sort()).toEqual(Object.keys(sample).sort())
    const volatile = ['accessKeyId', 'accessKeySecret', 'securityToken', 'expiration', 'refreshAfter']
    for (const key of Object.keys(sample).filter((k) => !volatile.includes(k))) {
      expect(answer[key], key).toEqual(sample[key])
    }
    expect(answer.accessKeyId).toMatch(/^STS\./)
    expect(answer.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })

  it('when the README shows the ali-oss snippet, then it is exactly what dev prints (token and ports aside)', () => {
    const block = BLOCKS.find((b) => b.kind === 'dev-node')
    const code = (block?.code ?? '').split('\n').filter((l) => !l.startsWith('// NODE_EXTRA_CA_CERTS='))
    expect(code.join('\n').trim()).toBe(printedSnippet())
  })

  it.each(
    BLOCKS.filter((b) => ['dev', 'dev-node', 'offline'].includes(b.kind)).map((b) => [b.line, b] as const),
  )(
    'when the block at README.md:%i runs as written, then it exits as documented and prints what the README says',
    async (_line, block) => {
      const { code, output } = await runBlock(block)
      expect(code, output).toBe(block.exit)
      for (const fragment of block.expects) expect(output).toContain(fragment)
    },
    60_000,
  )

  it('when npm run dev is what the README starts with, then it runs the same command this test starts', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts['dev']).toBe('node bin/sts-vend.js dev')
    expect(README).toContain('`npm run dev` (= `npx sts-vend dev`)')
  })

  it('when npx sts-vend runs in the checkout (as the README writes every command), then it finds the CLI', async () => {
    const { code, output } = await run(
      'npx',
      ['--no-install', 'sts-vend', 'check-config', 'examples/config.yaml'],
      ROOT,
    )
    expect(code, output).toBe(0)
    expect(output).toContain('examples/config.yaml: ok')
  }, 60_000)
})
