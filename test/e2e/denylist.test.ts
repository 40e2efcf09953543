// The deny list end to end: the real service process, `sts-vend deny` editing the file, the STS emulator.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli.ts'
import { ERROR_CATALOGUE } from '../../src/errors.ts'
import { captureIo } from '../fixtures/cli-io.ts'
import { type LiveService, startLiveService, within } from '../fixtures/live-service.ts'

let live: LiveService

async function deny(...args: string[]) {
  const io = captureIo()
  const code = await runCli(['deny', ...args, '--config', live.configFile], io)
  return { code, out: io.stdout(), err: io.stderr() }
}

beforeAll(async () => {
  live = await startLiveService((base) => ({ ...base, denylist: { file: 'deny.yaml' } }))
}, 60_000)

afterAll(async () => {
  await live?.close()
})

describe('sts-vend deny against the running service', () => {
  it('when alice is denied, then her next request is 403 within 5 s, bob is unaffected, and remove restores her without her old credentials', async () => {
    const alice = { sub: 'alice' }
    const bob = { sub: 'bob' }
    const first = await live.ask(alice)
    expect(first.status).toBe(200)
    expect((await live.ask(alice)).body['accessKeyId']).toBe(first.body['accessKeyId']) // cached
    expect((await live.ask(bob)).status).toBe(200)

    const added = await deny(
      'add',
      '--issuer',
      'corp',
      '--sub',
      'alice',
      '--ttl',
      '12h',
      '--reason',
      'laptop lost',
    )
    expect(added).toMatchObject({ code: 0 })
    expect(readFileSync(join(live.dir, 'deny.yaml'), 'utf8')).toContain('alice')
    const took = await within(5000, async () => (await live.ask(alice)).status === 403)
    expect(took).toBeLessThan(5000)

    const refused = await live.ask(alice)
    expect(refused.status).toBe(403)
    expect(Object.keys(refused.body).sort()).toEqual(['error', 'error_description', 'request_id'])
    expect(refused.body).toMatchObject({
      error: 'access_denied',
      error_description: ERROR_CATALOGUE.access_denied.description,
    })
    const auditLine = () =>
      live.lines('credentials.denied').find((l) => l['request_id'] === refused.body['request_id'])
    await within(3000, async () => auditLine() !== undefined)
    expect(auditLine()).toMatchObject({ denied_by: 'denylist', code: 'access_denied', sub: 'alice' })
    expect((await live.ask(bob)).status).toBe(200)

    const listed = await deny('list', '--json')
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ issuer: 'corp', sub: 'alice', reason: 'laptop lost', active: true }),
    ])

    const callsBefore = await live.assumeRoleCalls()
    expect(await deny('remove', '--issuer', 'corp', '--sub', 'alice')).toMatchObject({ code: 0 })
    await within(5000, async () => (await live.ask(alice)).status === 200)
    const back = await live.ask(alice)
    // Her cached credentials were dropped with the deny: she got new ones from a new AssumeRole.
    expect(back.body['accessKeyId']).not.toBe(first.body['accessKeyId'])
    expect(await live.assumeRoleCalls()).toBe(callsBefore + 1)
  }, 30_000)

  it('when a rule is denied, then its callers get 403 and callers of other rules are served', async () => {
    expect((await live.ask({ sub: 'dana', team: 'data' })).status).toBe(200)
    expect(await deny('add', '--rule', 'team')).toMatchObject({ code: 0 })
    await within(5000, async () => (await live.ask({ sub: 'dana', team: 'data' })).status === 403)
    expect((await live.ask({ sub: 'erin' })).status).toBe(200)
    expect(await deny('remove', '--rule', 'team')).toMatchObject({ code: 0 })
    await within(5000, async () => (await live.ask({ sub: 'dana', team: 'data' })).status === 200)
  }, 30_000)

  it('when a whole issuer is denied, then every caller of it gets 403', async () => {
    expect(await deny('add', '--issuer', 'corp')).toMatchObject({ code: 0 })
    await within(5000, async () => (await live.ask({ sub: 'bob' })).status === 403)
    expect((await live.ask({ sub: 'zed' })).status).toBe(403)
    expect(await deny('remove', '--issuer', 'corp')).toMatchObject({ code: 0 })
    await within(5000, async () => (await live.ask({ sub: 'bob' })).status === 200)
  }, 30_000)

  it('when the entry names an unknown issuer or rule, or remove finds nothing, then deny exits 1 and the file is unchanged', async () => {
    const before = readFileSync(join(live.dir, 'deny.yaml'), 'utf8')
    expect(await deny('add', '--issuer', 'nope', '--sub', 'x')).toMatchObject({ code: 1 })
    expect(await deny('add', '--rule', 'nope')).toMatchObject({ code: 1 })
    expect(await deny('remove', '--issuer', 'corp', '--sub', 'nobody')).toMatchObject({ code: 1 })
    expect(await deny('add', '--rule', 'team', '--issuer', 'corp')).toMatchObject({ code: 2 })
    expect(readFileSync(join(live.dir, 'deny.yaml'), 'utf8')).toBe(before)
  })
})
