// Issue 16 decision, end to end: a real serve process that crashes logs one redacted fatal line and exits 70.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { exitOf } from '../fixtures/processes.ts'
import { bareAppUsers, corpIssuer } from '../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'

let issuer: TestIssuer | undefined
afterEach(async () => {
  await issuer?.close()
  issuer = undefined
})

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('issue 16 decision: crash logs are redacted like every other log', () => {
  const SECRETS = ['crash-secret-1', 'crash-secret-2', 'crash-secret-3', 'Policy=%7B', 'eyJhbGciOiJSUzI1NiJ9']

  it.each([
    ['an unhandled rejection', 'rejection'],
    ['an uncaught exception', 'exception'],
  ])(
    'when a running serve process meets %s carrying secrets, then it exits 70 with one fatal line that holds none of them',
    async (_name, kind) => {
      issuer = await startTestIssuer()
      const config = join(dir, `crash-${kind}.yaml`)
      const doc = {
        server: { host: '127.0.0.1', port: 0 },
        sts: { endpoint: '127.0.0.1:1', protocol: 'http' },
        issuers: [corpIssuer(issuer)],
        rules: [
          bareAppUsers({
            when: { sub: { exists: true } },
            roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
            oss: { access: 'read' },
          }),
        ],
      }
      writeFileSync(config, JSON.stringify(doc))
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/fixtures/crash-child.ts', config, kind],
        {
          cwd: join(import.meta.dirname, '../..'),
          env: {
            ...process.env,
            ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIcrash',
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'x',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let out = ''
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8')
      })
      child.stderr.on('data', (c: Buffer) => {
        out += c.toString('utf8')
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await exitOf(child)
      clearTimeout(timer)
      expect(code).toBe(70)
      const fatal = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['level'] === 'fatal')
      expect(fatal).toEqual([
        expect.objectContaining({
          event: 'process.crashed',
          cause: expect.objectContaining({ code: 'CrashTest' }),
        }),
      ])
      for (const secret of SECRETS) expect(out).not.toContain(secret)
    },
    30_000,
  )
})
