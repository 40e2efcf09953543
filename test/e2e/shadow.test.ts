// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
// serve --shadow end to end: the real service decides under a candidate too, serves only the live answer.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type LiveService, startLiveService, TEAM_RULE, within } from '../fixtures/live-service.ts'

let live: LiveService
let candidateFile: string
const WIDER_TEAM = { ...TEAM_RULE, oss: { ...TEAM_RULE.oss, prefix: 'teams/data/' } }

beforeAll(async () => {
  live = await startLiveService(
    (base) => base,
    (dir, config) => {
      // The candidate: the live config with the team rule's prefix widened to the whole team folder.
      candidateFile = join(dir, 'candidate.yaml')
      writeFileSync(
        candidateFile,
        stringify({ ...config, rules: [WIDER_TEAM, ...(config['rules'] as unknown[]).slice(1)] }),
      )
      return ['--shadow', candidateFile]
    },
  )
}, 60_000)

afterAll(async () => {
  await live?.close()
})

describe('sts-vend serve --shadow', () => {
  it('when the candidate widens one rule, then 1,000 requests get only live answers and widened counts exactly the affected ones', async () => {
    const callers = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0 ? { sub: `data-${i}`, team: 'data' } : { sub: `app-${i}` },
    )
    const callsBefore = await live.assumeRoleCalls()
    let affected = 0
    let next = 0
    const wrong: string[] = []
    const worker = async () => {
      while (next < 1000) {
        const caller = callers[next++ % callers.length]!
        const { status, body } = await live.ask(caller)
        const expected = 'team' in caller ? `teams/data/${caller.sub}/` : `users/${caller.sub}/`
        if (status !== 200 || body['prefix'] !== expected)
          wrong.push(`${caller.sub}: ${status} ${String(body['prefix'])}`)
        if ('team' in caller) affected++
      }
    }
    await Promise.all(Array.from({ length: 20 }, worker))
    expect(wrong).toEqual([])
    expect(affected).toBe(250)
    expect(await live.metric('sts_vend_shadow_decisions_total{outcome="widened"}')).toBe(affected)
    expect(await live.metric('sts_vend_shadow_decisions_total{outcome="same"}')).toBe(1000 - affected)
    // One AssumeRole per caller (then the cache): none for the shadow.
    expect((await live.assumeRoleCalls()) - callsBefore).toBe(callers.length)
    await within(3000, async () => live.lines('shadow.decision').length === affected)
    expect(live.lines('shadow.decision')[0]).toMatchObject({
      outcome: 'widened',
      live: { rule: 'team', access: 'read', prefix: expect.stringMatching(/^teams\/data\/data-\d+\/$/) },
      shadow: { rule: 'team', access: 'read', prefix: 'teams/data/' },
    })
  }, 60_000)

  it('when the live config reloads, then the shadow is read again with it', async () => {
    writeFileSync(candidateFile, stringify(live.config))
    live.service.child.kill('SIGHUP')
    await within(5000, async () => live.lines('config.reloaded').length === 1)
    const widened = await live.metric('sts_vend_shadow_decisions_total{outcome="widened"}')
    expect((await live.ask({ sub: 'data-0', team: 'data' })).status).toBe(200)
    expect(await live.metric('sts_vend_shadow_decisions_total{outcome="widened"}')).toBe(widened)
  }, 20_000)
})
