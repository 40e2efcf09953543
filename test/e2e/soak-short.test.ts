// The soak's short mode (30 s, `npm run soak:short`) in CI: the real service and emulator under c=50 with STS faults.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enginesNodeMajor, nodeAtLeastOrSkip } from '../fixtures/node-line.ts'
import { ROOT } from '../fixtures/processes.ts'

interface SoakReport {
  ok: boolean
  checks: { name: string; ok: boolean; detail: string }[]
  requests: { total: number; ok: number; unavailable: number }
  assumeRole: { calls: number; faults: Record<string, number> }
}

const CHECKS = [
  'every answer is valid credentials or a documented error',
  'no AccessKeyId served to two subjects',
  'no crash, no unhandled rejection',
  'the breaker opened and recovered',
  'RSS growth after warm-up < 20%',
  'zero secrets in the service log',
  'one audit line per issued answer, every line JSON',
  'SIGTERM drains in-flight requests and exits 0',
]

let dir: string
let report: SoakReport
let exitCode: number | null
let output = ''

// The soak reads the service's memory through its inspector, with the global WebSocket of Node 22+.
const supported = nodeAtLeastOrSkip(enginesNodeMajor(), 'package.json engines', 'the short soak tests')

beforeAll(async () => {
  if (!supported) return
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-soak-test-'))
  const file = join(dir, 'report.json')
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts'], {
    cwd: ROOT,
    env: { ...process.env, SOAK_SECONDS: '30', SOAK_REPORT: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 55_000)
  exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  clearTimeout(timer)
  report = JSON.parse(readFileSync(file, 'utf8')) as SoakReport
}, 60_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!supported)(
  'soak, short mode (30 s at c=50, 5% throttles, 1% 5xx, 1% 2 s delays, a burst of resets)',
  () => {
    it('when the soak ends, then it exits 0 with every check passed and real traffic and faults behind it', () => {
      expect(exitCode, output).toBe(0)
      expect(report.ok, output).toBe(true)
      expect(report.requests.ok).toBeGreaterThan(1000)
      expect(report.assumeRole.calls).toBeGreaterThan(100)
      for (const kind of ['throttle', 'reset']) expect(report.assumeRole.faults[kind] ?? 0).toBeGreaterThan(0)
    })

    it.each(CHECKS)('when the soak ends, then "%s" holds', (name) => {
      const check = report.checks.find((c) => c.name === name)
      expect(check, `no check named "${name}"`).toBeDefined()
      expect(check?.ok, check?.detail).toBe(true)
    })
  },
)
