import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, type Harness } from './harness.ts'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('rate limits', () => {
  it('when one IP exceeds perIp, then 429 rate_limited with Retry-After and RateLimit before any token check', async () => {
    h = await createHarness((raw) => {
      raw['limits'] = { perIp: { limit: 3, windowSeconds: 60 } }
    })
    const agent = h.agent()
    for (let i = 0; i < 3; i++) expect((await agent.get('/v1/credentials')).status).toBe(401)
    const res = await agent.get('/v1/credentials')
    expect(res.status).toBe(429)
    expect(res.body.error).toBe('rate_limited')
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/)
    expect(res.headers['ratelimit']).toBeTruthy()
    expect((await agent.get('/healthz')).status).toBe(200)
  })

  it('when one subject exceeds perSubject, then 429 after the rule decision and no STS call for it', async () => {
    h = await createHarness((raw) => {
      raw['limits'] = { perSubject: { limit: 2, windowSeconds: 60 } }
    })
    const token = await h.token()
    const agent = h.agent()
    expect((await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}`)).status).toBe(200)
    expect((await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}`)).status).toBe(200)
    const res = await agent.post('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(429)
    expect(res.body.error).toBe('rate_limited')
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/)
    const other = await h.token({ sub: 'bob', groups: ['photo-app'] })
    expect((await agent.post('/v1/credentials').set('Authorization', `Bearer ${other}`)).status).toBe(200)
  })
})
