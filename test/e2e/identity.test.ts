// The service's own identity as real processes see it: serve refuses a root account, doctor checks the trust and ExternalId.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import {
  ASSUME_ANY_ROLE_POLICY,
  accountTrustPolicy,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  DEV_ROOT_ACCESS_KEY,
  DEV_SERVICE_USER,
  type Emulator,
  startEmulator,
} from '../../src/emulator/index.ts'
import { type CliProcess, freePort, identityEnv, spawnCli } from '../fixtures/processes.ts'
import { corpIssuer } from '../fixtures/rules.ts'

const EXTERNAL_ID = 'doctor-ext-0001'
const roleArn = (name: string) => `acs:ram::${DEV_ACCOUNT_ID}:role/${name}`

let dir: string
let emulator: Emulator

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-identity-'))
  emulator = await startEmulator({
    config: {
      accounts: [
        {
          id: DEV_ACCOUNT_ID,
          accessKeys: [{ ...DEV_ROOT_ACCESS_KEY }],
          users: [
            { name: DEV_SERVICE_USER, accessKeys: [{ ...DEV_ACCESS_KEY }], policy: ASSUME_ANY_ROLE_POLICY },
          ],
          roles: [
            // What the console shows for a role trusting this user with an ExternalId.
            {
              name: 'strict',
              trustPolicy: {
                Version: '1',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 'sts:AssumeRole',
                    Principal: { RAM: [`acs:ram::${DEV_ACCOUNT_ID}:user/${DEV_SERVICE_USER}`] },
                    Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
                  },
                ],
              },
            },
            // The same role with the ExternalId condition forgotten.
            { name: 'lax', trustPolicy: accountTrustPolicy(DEV_ACCOUNT_ID) },
          ],
        },
      ],
    },
  })
}, 30_000)

afterAll(async () => {
  await emulator?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function configFile(name: string, role: string, port = 0): Promise<string> {
  const config = {
    server: { host: '127.0.0.1', port: port || (await freePort()) },
    sts: { endpoint: emulator.endpoint, protocol: 'http', region: 'cn-hangzhou' },
    // An issuer nobody serves: these cases never get as far as a token.
    issuers: [corpIssuer({ issuer: 'http://127.0.0.1:9/', jwksUri: 'http://127.0.0.1:9/jwks.json' })],
    rules: [
      {
        id: 'partner',
        issuer: 'corp',
        roleArn: roleArn(role),
        externalId: EXTERNAL_ID,
        sessionName: 'p-${sub}',
        oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'in/${sub}/', access: 'upload-only' },
      },
    ],
  }
  const file = join(dir, name)
  writeFileSync(file, stringify(config))
  return file
}

async function exitOf(proc: CliProcess, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs)
  })
  const code = await Promise.race([proc.exited, late])
  clearTimeout(timer)
  return code
}

describe('sts-vend serve with a root account identity', () => {
  it('when the identity is the root account, then serve exits 1 within 10 s, says what to use instead, and /healthz never answered 200', async () => {
    const port = await freePort()
    const file = await configFile('root.yaml', 'strict', port)
    const started = Date.now()
    const proc = spawnCli(['serve', '--config', file], identityEnv(DEV_ROOT_ACCESS_KEY))
    const healthy: number[] = []
    const poll = (async () => {
      while (proc.child.exitCode === null && Date.now() - started < 12_000) {
        try {
          healthy.push((await fetch(`http://127.0.0.1:${port}/healthz`)).status)
        } catch {
          // not listening: what we want
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    const code = await exitOf(proc, 10_000)
    const elapsed = Date.now() - started
    await poll
    await proc.stop('SIGKILL')
    expect(code).toBe(1)
    expect(elapsed).toBeLessThan(10_000)
    expect(healthy.filter((s) => s === 200)).toEqual([])
    const lines = proc.stderr().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/root account.*RAM user.*RRSA.*ECS RAM role/)
    expect(proc.stdout() + proc.stderr()).not.toContain(DEV_ROOT_ACCESS_KEY.secret)
  }, 20_000)
})

describe('sts-vend doctor against the emulator', () => {
  async function doctor(role: string, key: { id: string; secret: string } = DEV_ACCESS_KEY) {
    const file = await configFile(`doctor-${role}.yaml`, role)
    const proc = spawnCli(['doctor', '--config', file], identityEnv(key))
    const code = await exitOf(proc, 20_000)
    return { code, out: proc.stdout(), err: proc.stderr() }
  }

  it('when the role trust lacks the ExternalId condition, then doctor reports TRUST_NOT_ENFORCING_EXTERNAL_ID with the fix and exits 1', async () => {
    const before = emulator.counters.snapshot().calls['AssumeRole']?.['success'] ?? 0
    const { code, out, err } = await doctor('lax')
    expect(code).toBe(1)
    const problems = out.split('\n').filter((l) => l.startsWith('PROBLEM'))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(
      /^PROBLEM TRUST_NOT_ENFORCING_EXTERNAL_ID rule partner: .* Fix: .*sts:ExternalId/,
    )
    expect(out).toContain(`ok identity: acs:ram::${DEV_ACCOUNT_ID}:user/${DEV_SERVICE_USER} (RAMUser)`)
    expect(out).toMatch(/doctor: 1 problem\(s\)\n$/)
    // The probes: the narrowest policy, 900 s, a doctor session name; nothing secret printed.
    const last = emulator.counters.snapshot().last
    expect(last).toMatchObject({ RoleSessionName: 'sts-vend-doctor', DurationSeconds: '900' })
    expect(last?.Policy).toContain('sts-vend-doctor-none/none')
    expect(emulator.counters.snapshot().calls['AssumeRole']?.['success']).toBe(before + 2)
    for (const s of emulator.sessions.list()) expect(out + err).not.toContain(s.accessKeySecret)
    expect(out + err).not.toContain(DEV_ACCESS_KEY.secret)
  }, 30_000)

  it('when the role requires the ExternalId, then doctor reports every check ok and exits 0', async () => {
    const { code, out } = await doctor('strict')
    expect(out).not.toContain('PROBLEM')
    expect(out).toContain('ok rule partner: a wrong ExternalId is refused.')
    expect(out).toMatch(/ok rule partner: worst-case session policy \d+\/2048 characters\./)
    expect(out).toMatch(/doctor: no problem found\n$/)
    expect(code).toBe(0)
  }, 30_000)

  it('when the identity is the root account, then doctor reports ROOT_IDENTITY and exits 1', async () => {
    const { code, out } = await doctor('strict', DEV_ROOT_ACCESS_KEY)
    expect(code).toBe(1)
    expect(out).toMatch(/^PROBLEM ROOT_IDENTITY .*Fix: use a RAM user/m)
  }, 30_000)
})
