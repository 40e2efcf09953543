// Hot reload end to end: the real service process, its config file rewritten under load, SIGHUP.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_RULE, type LiveService, startLiveService, TEAM_RULE, within } from '../fixtures/live-service.ts'

let live: LiveService
const APP_ONLY_WITHOUT_TEAM = { ...APP_RULE, when: { team: { exists: false } } }
const withRules = (rules: unknown[]) => ({ ...live.config, rules })

async function readyz(): Promise<{ generation: number; sha256: string }> {
  const body = (await (await fetch(`${live.url}/readyz`)).json()) as {
    config: { generation: number; sha256: string }
  }
  return body.config
}

const fileSha = () => createHash('sha256').update(readFileSync(live.configFile, 'utf8')).digest('hex')

beforeAll(async () => {
  live = await startLiveService((base) => ({ ...base, rules: [TEAM_RULE, APP_ONLY_WITHOUT_TEAM] }))
}, 60_000)

afterAll(async () => {
  await live?.close()
})

describe('hot reload of the running service', () => {
  it('when a rule is removed from the file under c=20 load, then its callers get 403 within 5 s, with no restart and no failed request', async () => {
    const dana = { sub: 'dana', team: 'data' }
    expect((await live.ask(dana)).body['prefix']).toBe('teams/data/dana/')
    expect(await readyz()).toEqual({ generation: 1, sha256: fileSha() })
    const pid = live.service.child.pid
    const reloads = live.lines('config.reloaded').length

    const statuses = new Map<number | string, number>()
    let stop = false
    const worker = async (n: number) => {
      // Bounded: stops when the swap has been seen (or after 400 requests per worker at most).
      for (let i = 0; i < 400 && !stop; i++) {
        const status = await live.ask({ sub: `load-${n}` }).then(
          (r) => r.status,
          () => 'network-error',
        )
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }
    const load = Array.from({ length: 20 }, (_, n) => worker(n))
    await new Promise((r) => setTimeout(r, 300))
    const written = Date.now()
    live.write(withRules([APP_ONLY_WITHOUT_TEAM]))
    const took = await within(5000, async () => (await live.ask(dana)).status === 403)
    await new Promise((r) => setTimeout(r, 300))
    stop = true
    await Promise.all(load)

    expect(Date.now() - written).toBeLessThan(5000 + 500)
    expect(took).toBeLessThan(5000)
    expect([...statuses.keys()]).toEqual([200])
    expect(statuses.get(200)).toBeGreaterThan(20)
    expect(live.service.child.pid).toBe(pid)
    expect(live.service.child.exitCode).toBeNull()
    expect(await readyz()).toEqual({ generation: 2, sha256: fileSha() })
    expect(await live.metric('sts_vend_config_generation')).toBe(2)
    expect(await live.line('config.reloaded', reloads)).toMatchObject({
      generation: 2,
      sha256: fileSha(),
      trigger: 'file',
    })
  }, 30_000)

  it('when the file is broken, then the old rules keep serving and the failure is logged with every problem and counted', async () => {
    const before = await readyz()
    const failures = live.lines('config.reload_failed').length
    live.write({ ...withRules([{ id: 'x', issuer: 'nope' }]), server: { port: 1 } })
    const failed = await live.line('config.reload_failed', failures)
    expect(await live.metric('sts_vend_config_reload_failures_total')).toBe(failures + 1)
    const problems = failed['problems'] as string[]
    expect(problems.some((p) => p.startsWith('rules[0].issuer'))).toBe(true)
    expect(problems.some((p) => p.startsWith('rules[0].roleArn'))).toBe(true)
    expect((await live.ask({ sub: 'bob' })).status).toBe(200)
    expect((await live.ask({ sub: 'dana', team: 'data' })).status).toBe(403)
    expect(await readyz()).toEqual(before)
  }, 20_000)

  it('when only the listen port changes, then the reload is refused naming the setting, and the old config keeps serving', async () => {
    const failures = live.lines('config.reload_failed').length
    live.write({
      ...withRules([TEAM_RULE, APP_ONLY_WITHOUT_TEAM]),
      server: { host: '127.0.0.1', port: 1, metrics: { unauthenticated: true } },
    })
    const failed = await live.line('config.reload_failed', failures)
    expect(await live.metric('sts_vend_config_reload_failures_total')).toBe(failures + 1)
    expect(failed['problems']).toEqual([expect.stringMatching(/^server\.port: \d+ → 1 needs a restart/)])
    expect((await live.ask({ sub: 'dana', team: 'data' })).status).toBe(403)
  }, 20_000)

  it('when a good file comes back and SIGHUP is sent, then each reloads (the generation counts both)', async () => {
    const reloads = live.lines('config.reloaded').length
    live.write(withRules([TEAM_RULE, APP_ONLY_WITHOUT_TEAM]))
    expect(await live.line('config.reloaded', reloads)).toMatchObject({ trigger: 'file', generation: 3 })
    expect((await live.ask({ sub: 'dana', team: 'data' })).status).toBe(200)
    expect((await readyz()).generation).toBe(3)
    live.service.child.kill('SIGHUP')
    expect(await live.line('config.reloaded', reloads + 1)).toMatchObject({
      trigger: 'SIGHUP',
      generation: 4,
    })
    expect((await readyz()).generation).toBe(4)
    expect(live.service.child.exitCode).toBeNull()
  }, 20_000)
})
