// GET /v1/grants (issue 20): what a token may ask for, in rule order; never a rule it does not match; no STS call.
import { pathToFileURL } from 'node:url'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { devConfig } from '../../../src/commands/dev-config.ts'
import type { Config } from '../../../src/config/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { buildAdapters } from '../../../src/server.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { createHarness, events, type Harness } from './harness.ts'

let h: Harness
beforeAll(async () => {
  h = await createHarness((raw) => {
    raw.rules[2].selectable = true
  })
})
afterAll(async () => {
  await h.close()
})

async function grants(token: string, path = '/v1/grants') {
  return h.agent().get(path).set('Authorization', `Bearer ${token}`)
}

describe('GET /v1/grants', () => {
  it('when a caller matches two rules, then both are listed in rule order with their rendered prefix, and no STS call is made', async () => {
    const calls = h.sts.calls.length
    const res = await grants(await h.token({ sub: 'carol', groups: ['ap', 'photo-app'] }))
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).toEqual({
      grants: [
        {
          rule: 'app-users',
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'users/carol/',
          access: 'read-write',
          durationSeconds: { default: 3600, max: 3600 },
          formats: ['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser'],
          selectable: true, // the harness makes its first rule selectable
        },
        {
          rule: 'ap-readers',
          accessPoint: { name: 'ap-01', alias: 'ap-01-ossalias' },
          region: 'cn-hangzhou',
          prefix: 'dir1/carol/',
          access: 'read',
          durationSeconds: { default: 3600, max: 3600 },
          formats: ['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser'],
          selectable: true,
        },
      ],
    })
    expect(h.sts.calls.length).toBe(calls)
  })

  it('when the first grant is listed, then it is the rule a plain credentials request gets', async () => {
    const token = await h.token({ sub: 'dave', groups: ['ap', 'photo-app'] })
    const listed = await grants(token)
    const plain = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({})
    expect(plain.status).toBe(200)
    expect(listed.body.grants[0].rule).toBe(plain.body.rule)
  })

  it('when a caller matches no rule, then the answer is the 403 /v1/credentials gives, with a denied audit line, and no STS call', async () => {
    const calls = h.sts.calls.length
    const token = await h.token({ sub: 'mallory', groups: ['nothing'] })
    const res = await grants(token)
    const credentials = await h.agent().get('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(403)
    expect(credentials.status).toBe(403)
    expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description', 'request_id'])
    expect(res.body.error).toBe('access_denied')
    expect(res.body.error_description).toBe(credentials.body.error_description)
    const line = events(h.lines, 'credentials.denied').find((l) => l['request_id'] === res.body.request_id)
    expect(line).toMatchObject({ code: 'access_denied', reason: 'no_rule_matched', sub: 'mallory' })
    expect(h.sts.calls.length).toBe(calls)
  })

  it('when the only matching rule cannot be rendered for the caller (an unusable claim), then it is not named: 403', async () => {
    // browser renders teams/${claim.team}/: a team with a slash is refused, exactly as /v1/credentials refuses it.
    const res = await grants(await h.token({ sub: 'eve', groups: ['analysts'], team: 'a/b' }))
    expect(res.status).toBe(403)
    expect(JSON.stringify(res.body)).not.toContain('browser')
  })

  it('when a rule of two cannot be rendered for the caller, then only the other is listed', async () => {
    const res = await grants(await h.token({ sub: 'frank', groups: ['analysts', 'photo-app'], team: 'a/b' }))
    expect(res.status).toBe(200)
    expect(res.body.grants.map((g: { rule: string }) => g.rule)).toEqual(['app-users'])
  })

  it('when there is no token, a query parameter, or another method, then 401, 400 and 405 as on the credential routes', async () => {
    expect((await h.agent().get('/v1/grants')).status).toBe(401)
    expect((await grants(await h.token(), '/v1/grants?rule=app-users')).status).toBe(400)
    const post = await h.agent().post('/v1/grants')
    expect(post.status).toBe(405)
    expect(post.headers['allow']).toBe('GET')
  })
})

/** An independent oracle for the conditions the dev config uses (equals, contains); anything else fails the test. */
function holds(when: Config['rules'][number]['when'], claims: Record<string, unknown>): boolean {
  return Object.entries(when).every(([claim, condition]) => {
    const value = claims[claim]
    const c = condition as Record<string, unknown>
    if ('contains' in c) return Array.isArray(value) && value.includes(c['contains'])
    if ('equals' in c) return value === c['equals']
    throw new Error(`the oracle does not know ${JSON.stringify(condition)}`)
  })
}

describe('GET /v1/grants for every dev user against every rule of the dev config', () => {
  let issuer: TestIssuer
  let app: ReturnType<typeof createApp>
  let rules: Config['rules']
  let close: () => Promise<void>
  beforeAll(async () => {
    issuer = await startTestIssuer()
    const config = devConfig({
      host: '127.0.0.1',
      port: 0,
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: 'sts-vend',
      stsEndpoint: '127.0.0.1:9',
    })
    rules = config.rules
    const adapters = await buildAdapters(config, createCapturingLogger('info').logger, createRecordingSts())
    app = createApp(adapters.deps)
    close = async () => {
      await adapters.close()
      await issuer.close()
    }
  })
  afterAll(async () => {
    await close()
  })

  it('when each dev user asks, then the grants are exactly the rules whose conditions hold, in rule order', async () => {
    const url = pathToFileURL(`${process.cwd()}/web/js/dev.js`).href
    const { DEV_USERS } = (await import(url)) as {
      DEV_USERS: { sub: string; claims: Record<string, unknown> }[]
    }
    const users = [
      ...DEV_USERS,
      { sub: 'bob', claims: {} },
      { sub: 'ob', claims: { groups: ['ossbrowser'], partner: 'acme' } },
    ]
    expect(rules.map((r) => r.id)).toEqual(['ossbrowser-users', 'partner', 'app-users'])
    for (const user of users) {
      const token = await issuer.sign({ sub: user.sub, ...user.claims })
      const listed = await request(app).get('/v1/grants').set('Authorization', `Bearer ${token}`)
      expect(listed.status, user.sub).toBe(200)
      const matched = rules.filter((r) => holds(r.when, user.claims)).map((r) => r.id)
      expect(
        listed.body.grants.map((g: { rule: string }) => g.rule),
        user.sub,
      ).toEqual(matched)
      for (const grant of listed.body.grants) expect(grant.prefix).toContain(`/${user.sub}/`)
    }
  })
})
