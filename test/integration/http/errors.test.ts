import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ERROR_CATALOGUE } from '../../../src/errors.ts'
import { createHarness, events, type Harness } from './harness.ts'

let h: Harness
beforeEach(async () => {
  h = await createHarness()
})
afterEach(async () => {
  await h.close()
})

function expectErrorBody(
  res: { body: unknown; headers: Record<string, string> },
  code: keyof typeof ERROR_CATALOGUE,
) {
  expect(res.body).toEqual({
    error: code,
    error_description: expect.any(String),
    request_id: res.headers['x-request-id'],
  })
}

describe('routing', () => {
  it.each([['/nope'], ['/V1/CREDENTIALS'], ['/v1/credentials/']])(
    'when the path is %s, then 404 not_found without a token',
    async (path) => {
      const res = await h.agent().get(path)
      expect(res.status).toBe(404)
      expectErrorBody(res, 'not_found')
    },
  )

  it.each([
    ['put', '/v1/credentials', 'GET, POST'],
    ['delete', '/v1/credentials', 'GET, POST'],
    ['head', '/v1/credentials', 'GET, POST'],
    ['get', '/v1/simulate', 'POST'],
    ['post', '/healthz', 'GET'],
  ] as const)('when %s %s, then 405 with Allow: %s', async (method, path, allow) => {
    const res = await h.agent()[method](path)
    expect(res.status).toBe(405)
    expect(res.headers['allow']).toBe(allow)
    if (method !== 'head') expectErrorBody(res, 'method_not_allowed')
  })
})

describe('authentication (401)', () => {
  it('when there is no Authorization header, then 401 with the bare Bearer challenge and one denied line', async () => {
    const res = await h.agent().post('/v1/credentials')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="sts-vend"')
    expectErrorBody(res, 'invalid_token')
    const denied = events(h.lines, 'credentials.denied')
    expect(denied).toHaveLength(1)
    expect(denied[0]).toMatchObject({ code: 'invalid_token', request_id: res.headers['x-request-id'] })
    expect(String(denied[0]?.['reason'])).not.toBe('')
  })

  it('when the token is badly signed, then 401 error="invalid_token" and no STS call', async () => {
    const token = await h.token()
    const forged = `${token.slice(0, -4)}AAAA`
    const res = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${forged}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="sts-vend", error="invalid_token"')
    expect(h.sts.calls).toHaveLength(0)
    expect(h.raw.join('\n')).not.toContain(forged)
  })

  it('when the token is only in the query string, then it is never read', async () => {
    const token = await h.token()
    const res = await h.agent().get(`/v1/credentials?access_token=${token}`)
    expect([400, 401]).toContain(res.status)
    expect(res.status).toBe(401)
  })

  it('when the body is also invalid, then authentication still answers first', async () => {
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Content-Type', 'application/json')
      .send('{"nope":')
    expect(res.status).toBe(401)
  })
})

describe('validation (400)', () => {
  const cases: [
    string,
    (
      a: ReturnType<Harness['agent']>,
      t: string,
    ) => Promise<{ status: number; body: unknown; headers: Record<string, string> }>,
  ][] = [
    [
      'malformed JSON',
      (a, t) =>
        a
          .post('/v1/credentials')
          .set('Authorization', `Bearer ${t}`)
          .set('Content-Type', 'application/json')
          .send('{"rule":'),
    ],
    [
      'an unknown body field',
      (a, t) => a.post('/v1/credentials').set('Authorization', `Bearer ${t}`).send({ Policy: '{}' }),
    ],
    [
      'a body that is an array',
      (a, t) =>
        a
          .post('/v1/credentials')
          .set('Authorization', `Bearer ${t}`)
          .set('Content-Type', 'application/json')
          .send('[]'),
    ],
    [
      'an unknown query parameter',
      (a, t) => a.get('/v1/credentials?roleArn=x').set('Authorization', `Bearer ${t}`),
    ],
    [
      'a repeated parameter',
      (a, t) => a.get('/v1/credentials?format=json&format=appserver').set('Authorization', `Bearer ${t}`),
    ],
    [
      'an array-style parameter',
      (a, t) => a.get('/v1/credentials?format[]=json').set('Authorization', `Bearer ${t}`),
    ],
    ['an unknown format', (a, t) => a.get('/v1/credentials?format=xml').set('Authorization', `Bearer ${t}`)],
    [
      'a duration below 900',
      (a, t) => a.get('/v1/credentials?durationSeconds=899').set('Authorization', `Bearer ${t}`),
    ],
    [
      'a duration above the rule max',
      (a, t) => a.get('/v1/credentials?durationSeconds=3601').set('Authorization', `Bearer ${t}`),
    ],
    [
      'a non-numeric duration',
      (a, t) => a.get('/v1/credentials?durationSeconds=1e3').set('Authorization', `Bearer ${t}`),
    ],
    [
      'query and body formats that differ',
      (a, t) =>
        a
          .post('/v1/credentials?format=json')
          .set('Authorization', `Bearer ${t}`)
          .send({ format: 'appserver' }),
    ],
    [
      'a __proto__ body key',
      (a, t) =>
        a
          .post('/v1/credentials')
          .set('Authorization', `Bearer ${t}`)
          .set('Content-Type', 'application/json')
          .send('{"__proto__":{"isAdmin":true}}'),
    ],
  ]

  it.each(cases)('when the request has %s, then 400 invalid_request and no STS call', async (_name, send) => {
    const token = await h.token()
    const res = await send(h.agent(), token)
    expect(res.status).toBe(400)
    expectErrorBody(res, 'invalid_request')
    expect(h.sts.calls).toHaveLength(0)
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined()
  })
})

describe('rule decision (403)', () => {
  it('when no rule matches the caller, then 403 access_denied and a denied line with the subject', async () => {
    const token = await h.token({ sub: 'mallory', groups: ['nobody'] })
    const res = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(403)
    expectErrorBody(res, 'access_denied')
    expect(h.sts.calls).toHaveLength(0)
    expect(events(h.lines, 'credentials.denied')[0]).toMatchObject({ code: 'access_denied', sub: 'mallory' })
  })

  it('when the caller names a rule that does not match it, then 403', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .send({ rule: 'partner' })
    expect(res.status).toBe(403)
  })

  it('when narrowing asks for a sibling prefix, then 403', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .send({ prefix: 'users/bob/' })
    expect(res.status).toBe(403)
    expect(h.sts.calls).toHaveLength(0)
  })

  it('when narrowing asks for wider access, then 403', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .send({ access: 'read-write-delete' })
    expect(res.status).toBe(403)
  })
})

describe('body limits (413/415)', () => {
  it('when the body is over bodyLimitBytes, then 413 before authentication', async () => {
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ rule: 'x'.repeat(17_000) }))
    expect(res.status).toBe(413)
    expectErrorBody(res, 'payload_too_large')
  })

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['application/json; charset=utf-16']])(
    'when the content type is %s, then 415',
    async (type) => {
      const token = await h.token()
      const res = await h
        .agent()
        .post('/v1/credentials')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', type)
        .send('{}')
      expect(res.status).toBe(415)
      expectErrorBody(res, 'unsupported_media_type')
    },
  )

  it('when the body is gzip-encoded, then 415 (no inflation)', async () => {
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{}')
    expect(res.status).toBe(415)
  })

  it('when the body is JSON with charset=utf-8, then it is accepted', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json; charset=utf-8')
      .send('{"format":"json"}')
    expect(res.status).toBe(200)
  })
})

describe('upstream (503) and appserver errors', () => {
  it('when STS is unavailable, then 503 upstream_unavailable with an integer Retry-After', async () => {
    h.sts.failNext(1)
    const token = await h.token()
    const res = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(503)
    expectErrorBody(res, 'upstream_unavailable')
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/)
  })

  it('when format=appserver is in the query, then errors keep the status and take the AppServer shape', async () => {
    const res = await h.agent().get('/v1/credentials?format=appserver')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({
      StatusCode: 401,
      ErrorCode: 'invalid_token',
      ErrorMessage: expect.any(String),
    })
    expect(res.headers['x-request-id']).toBeTruthy()
  })
})

describe('request ids and CORS', () => {
  it.each([
    ['abc-123_X.y', true],
    ['"><script>', false],
    ['a,b', false],
    ['x'.repeat(65), false],
  ])('when the inbound X-Request-Id is %s, then kept=%s', async (id, kept) => {
    const res = await h.agent().get('/healthz').set('X-Request-Id', id)
    if (kept) expect(res.headers['x-request-id']).toBe(id)
    else expect(res.headers['x-request-id']).not.toBe(id)
  })

  it('when a configured origin sends a preflight, then 204 with its origin echoed and Authorization allowed', async () => {
    const res = await h
      .agent()
      .options('/v1/credentials')
      .set('Origin', 'https://app.example.test')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type')
    expect(res.status).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.test')
    expect(res.headers['vary']).toContain('Origin')
    expect(res.headers['access-control-allow-headers']).toContain('Authorization')
    expect(res.headers['access-control-allow-headers']).toContain('Content-Type')
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it.each([['https://evil.example'], ['null'], ['https://app.example.test.evil.example']])(
    'when the origin is %s, then no CORS headers',
    async (origin) => {
      const res = await h
        .agent()
        .options('/v1/credentials')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
    },
  )

  it('when an actual request comes from a configured origin, then it carries the CORS headers too', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Origin', 'https://app.example.test')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.test')
    expect(res.headers['vary']).toContain('Origin')
  })
})
