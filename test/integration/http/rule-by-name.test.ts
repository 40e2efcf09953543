// Issue 16 item 2 and design §14: `rule` may name only a selectable rule, so naming a rule never skips the first match.
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { devConfig } from '../../../src/commands/dev-config.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../../src/server.ts'
import { createRecordingSts, type RecordingSts } from '../../fixtures/fake-sts.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { events } from './harness.ts'

describe('the bundled dev config, asked for a rule by name', () => {
  let issuer: TestIssuer
  let sts: RecordingSts
  let adapters: Adapters
  let lines: Record<string, unknown>[]
  let app: ReturnType<typeof createApp>

  beforeAll(async () => {
    issuer = await startTestIssuer()
    const config = devConfig({
      host: '127.0.0.1',
      port: 0,
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: 'sts-vend',
      stsEndpoint: '127.0.0.1:1',
    })
    const capture = createCapturingLogger('info')
    lines = capture.lines
    sts = createRecordingSts()
    adapters = await buildAdapters(config, capture.logger, sts)
    app = createApp(adapters.deps)
  })
  afterAll(async () => {
    await adapters.close()
    await issuer.close()
  })

  const ask = async (claims: Record<string, unknown>, query: string) =>
    request(app)
      .get(`/v1/credentials${query}`)
      .set('Authorization', `Bearer ${await issuer.sign(claims)}`)

  it('when a partner user asks ?rule=app-users, then it is 403 access_denied like a rule it does not match, with no STS call', async () => {
    const before = sts.calls.length
    const named = await ask({ sub: 'pat', partner: 'acme' }, '?rule=app-users')
    expect(named.status).toBe(403)
    expect(named.body.error).toBe('access_denied')
    const unknown = await ask({ sub: 'pat', partner: 'acme' }, '?rule=no-such-rule')
    expect(Object.keys(named.body).sort()).toEqual(Object.keys(unknown.body).sort())
    expect(named.body.error_description).toBe(unknown.body.error_description)
    expect(sts.calls.length).toBe(before)
    const denied = events(lines, 'credentials.denied').at(-2)
    expect(denied?.['reason']).toBe('requested_rule_not_matched')
  })

  it('when the same partner user asks without a rule, then it gets its own first match, partner', async () => {
    const res = await ask({ sub: 'pat', partner: 'acme' }, '')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ rule: 'partner', bucket: 'partnerbucket', prefix: 'ingest/pat/' })
  })

  it('when an ordinary dev user names app-users, which it matches first, then it is still 403 (not selectable)', async () => {
    expect((await ask({ sub: 'alice' }, '?rule=app-users')).status).toBe(403)
    expect((await ask({ sub: 'alice' }, '')).body.rule).toBe('app-users')
  })
})
