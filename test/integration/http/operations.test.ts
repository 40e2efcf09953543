import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, type Harness } from './harness.ts'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('health, readiness, metrics', () => {
  it('when the issuer keys can be fetched and STS identity resolves, then /readyz is 200', async () => {
    h = await createHarness()
    const res = await h.agent().get('/readyz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      status: 'ready',
      checks: { issuers: 'ok', sts: 'ok' },
      config: { generation: 1, sha256: '' },
    })
  })

  it('when an issuer JWKS cannot be fetched, then /readyz is 503 and /healthz stays 200', async () => {
    h = await createHarness()
    await h.issuer.close()
    const ready = await h.agent().get('/readyz')
    expect(ready.status).toBe(503)
    expect(ready.body.error).toBe('upstream_unavailable')
    expect(ready.headers['retry-after']).toMatch(/^[1-9]\d*$/)
    expect((await h.agent().get('/healthz')).status).toBe(200)
  })

  it('when many distinct subjects and paths hit the service, then /metrics labels stay bounded and hold no claim', async () => {
    h = await createHarness((raw) => {
      raw['server'].metrics = { unauthenticated: true }
    })
    const agent = h.agent()
    for (let i = 0; i < 20; i++) {
      const token = await h.token({ sub: `user-${i}`, groups: ['photo-app'] })
      await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}`)
      await agent.get(`/random-${i}`)
    }
    const res = await agent.get('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toContain('text/plain')
    expect(res.text).toContain('sts_vend_http_requests_total')
    expect(res.text).toContain('sts_vend_credentials_issued_total{rule="app-users",cache="miss"} 20')
    expect(res.text).not.toMatch(/user-\d/)
    expect(res.text).not.toMatch(/random-\d/)
    expect(res.text).toContain('route="other"')
  })
})

describe('simulate', () => {
  it('when simulate asks checks, then it answers the decision and never calls STS', async () => {
    h = await createHarness()
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/simulate')
      .set('Authorization', `Bearer ${token}`)
      .send({
        checks: [
          { action: 'oss:PutObject', key: 'users/alice/a.jpg' },
          { action: 'oss:PutObject', key: 'users/bob/a.jpg' },
        ],
      })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      rule: 'app-users',
      roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
      sessionName: 'app-alice',
      durationSeconds: 3600,
    })
    expect(res.body.policyLength).toBeLessThanOrEqual(res.body.worstCaseLength)
    expect(res.body.checks.map((c: { allowed: boolean }) => c.allowed)).toEqual([true, false])
    expect(h.sts.calls).toHaveLength(0)
  })

  it('when server.simulate is false, then /v1/simulate is 404', async () => {
    h = await createHarness((raw) => {
      raw['server'] = { simulate: false }
    })
    const token = await h.token()
    const res = await h.agent().post('/v1/simulate').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(404)
  })
})

describe('logs', () => {
  it('when credentials are issued in every format and refused on every path, then no log byte holds a secret', async () => {
    h = await createHarness()
    const agent = h.agent()
    const token = await h.token()
    const bodies: string[] = []
    for (const format of ['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser']) {
      const res = await agent.get(`/v1/credentials?format=${format}`).set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      bodies.push(res.text)
    }
    await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}x`)
    await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({ prefix: 'users/bob/' })
    h.sts.failNext(1)
    await agent
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${await h.token({ sub: 'zed', groups: ['photo-app'] })}`)

    const secrets = [
      token,
      ...token.split('.'),
      ...h.sts.issued.flatMap((c) => [c.accessKeySecret, c.securityToken]),
      ...h.sts.calls.map((c) => c.policy),
      ...bodies.map((b) => JSON.parse(b)['authorizationCode']).filter(Boolean),
    ]
    const log = h.raw.join('\n')
    for (const secret of secrets) {
      for (const form of [
        secret,
        JSON.stringify(secret).slice(1, -1),
        encodeURIComponent(secret),
        Buffer.from(secret).toString('base64'),
      ]) {
        expect(log.includes(form), `log holds a secret form of ${secret.slice(0, 12)}…`).toBe(false)
      }
    }
    expect(h.lines.filter((l) => l['event'] === 'credentials.issued')).toHaveLength(5)
    expect(h.lines.filter((l) => l['event'] === 'credentials.denied')).toHaveLength(3)
  })
})
