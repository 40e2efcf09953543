// Keeps the test layout the README promises: spawned processes only under test/e2e (test-layout.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { filesOutsideE2e, spawnFindings } from './test-layout.ts'

const TEST = fileURLToPath(new URL('..', import.meta.url))

describe('the test layout', () => {
  it('when every test file outside test/e2e is read, then none starts a process of ours', () => {
    const files = filesOutsideE2e(TEST)
    expect(files.length).toBeGreaterThan(50)
    expect(files).toContain('unit/cli.test.ts')
    expect(files.some((f) => f.startsWith('e2e/') || f.startsWith('fixtures/'))).toBe(false)
    const findings = files.flatMap((f) => spawnFindings(f, readFileSync(join(TEST, f), 'utf8')))
    expect(findings).toEqual([])
  })

  it('when a spawn is planted in a unit test, then the check names the file and the reason', () => {
    expect(spawnFindings('unit/x.test.ts', "import { spawn } from 'node:child_process'")).toEqual([
      'unit/x.test.ts: imports node:child_process',
    ])
    expect(spawnFindings('unit/y.test.ts', "const p = spawnCli(['serve'])")).toEqual([
      'unit/y.test.ts: uses spawnCli (fixtures/processes.ts)',
    ])
    expect(spawnFindings('unit/z.test.ts', "import { freePort } from '../fixtures/processes.ts'")).toEqual([])
  })
})
