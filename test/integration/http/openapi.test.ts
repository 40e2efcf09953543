import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createHarness, type Harness } from './harness.ts'

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document is walked by arbitrary JSON pointers.
type Loose = Record<string, any>

const document = parse(readFileSync('openapi.yaml', 'utf8')) as Loose
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addSchema(document, 'openapi')

const pointerEscape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')

/** The JSON pointer of the response schema for (path, method, status), following a $ref'd response. */
function responseSchemaPointer(
  path: string,
  method: string,
  status: number,
  type = 'application/json',
): string {
  const operation = document['paths'][path]?.[method]
  expect(operation, `${method.toUpperCase()} ${path} is documented`).toBeDefined()
  let pointer = `#/paths/${pointerEscape(path)}/${method}/responses/${status}`
  let response = operation.responses[String(status)]
  expect(response, `${method.toUpperCase()} ${path} documents ${status}`).toBeDefined()
  if (response.$ref) {
    pointer = response.$ref
    response = response.$ref
      .slice(2)
      .split('/')
      .reduce((node: Loose, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], document)
  }
  expect(response.content?.[type], `${status} documents ${type}`).toBeDefined()
  return `${pointer}/content/${pointerEscape(type)}/schema`
}

function expectDocumented(
  path: string,
  method: string,
  res: { status: number; body: unknown; headers: Record<string, string> },
) {
  const validate = ajv.compile({ $ref: `openapi${responseSchemaPointer(path, method, res.status)}` })
  const ok = validate(res.body)
  expect(ok, `${method.toUpperCase()} ${path} ${res.status}: ${JSON.stringify(validate.errors)}`).toBe(true)
}

let h: Harness
beforeAll(async () => {
  h = await createHarness()
})
afterAll(async () => {
  await h.close()
})

describe('openapi.yaml', () => {
  it('when validated as an OpenAPI 3.1 document, then it is valid', async () => {
    const result = await new Validator().validate(document)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('when served at /openapi.yaml, then it is the same document', async () => {
    const res = await h.agent().get('/openapi.yaml')
    expect(res.status).toBe(200)
    expect(parse(res.text)).toEqual(document)
  })

  it('when /openapi.yaml is served, then it carries Cache-Control: no-store like every route', async () => {
    const res = await h.agent().get('/openapi.yaml')
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it.each(['json', 'appserver', 'credentials-uri', 'aliyun-cli', 'ossbrowser'])(
    'when credentials come in format %s, then the body matches the documented schema',
    async (format) => {
      const token = await h.token()
      const res = await h
        .agent()
        .get(`/v1/credentials?format=${format}`)
        .set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expectDocumented('/v1/credentials', 'get', res)
    },
  )

  it('when every error path of /v1/credentials answers, then each body matches the documented schema', async () => {
    const token = await h.token()
    const cases = [
      await h.agent().post('/v1/credentials'),
      await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({ nope: 1 }),
      await h
        .agent()
        .post('/v1/credentials')
        .set('Authorization', `Bearer ${await h.token({ sub: 'x' })}`),
      await h.agent().put('/v1/credentials'),
      await h.agent().post('/v1/credentials').set('Content-Type', 'text/plain').send('x'),
      await h
        .agent()
        .post('/v1/credentials')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ a: 'x'.repeat(20_000) })),
      await h.agent().get('/v1/credentials?format=appserver'),
    ]
    expect(cases.map((r) => r.status)).toEqual([401, 400, 403, 405, 415, 413, 401])
    for (const res of cases) expectDocumented('/v1/credentials', res.status === 405 ? 'get' : 'post', res)
  })

  it('when the operational routes answer, then each body matches the documented schema', async () => {
    expectDocumented('/healthz', 'get', await h.agent().get('/healthz'))
    const ready = await h.agent().get('/readyz')
    expectDocumented('/readyz', 'get', ready)
    const token = await h.token()
    const sim = await h
      .agent()
      .post('/v1/simulate')
      .set('Authorization', `Bearer ${token}`)
      .send({ checks: [{ action: 'oss:PutObject', key: 'users/alice/a.jpg' }] })
    expect(sim.status).toBe(200)
    expectDocumented('/v1/simulate', 'post', sim)
  })

  it('when GET /v1/grants and POST /v1/explain-denial answer, then each body matches the documented schema', async () => {
    const ap = await h.token({ sub: 'carol', groups: ['ap', 'photo-app'] })
    const listed = await h.agent().get('/v1/grants').set('Authorization', `Bearer ${ap}`)
    expect(listed.status).toBe(200)
    expectDocumented('/v1/grants', 'get', listed)
    const refusals = [
      await h.agent().get('/v1/grants'),
      await h.agent().get('/v1/grants?x=1').set('Authorization', `Bearer ${ap}`),
      await h
        .agent()
        .get('/v1/grants')
        .set('Authorization', `Bearer ${await h.token({ sub: 'x' })}`),
    ]
    expect(refusals.map((r) => r.status)).toEqual([401, 400, 403])
    for (const res of refusals) expectDocumented('/v1/grants', 'get', res)

    const token = await h.token()
    const creds = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .send({ access: 'read' })
    const ask = (body: unknown, bearer = token) =>
      h
        .agent()
        .post('/v1/explain-denial')
        .set('Authorization', `Bearer ${bearer}`)
        .send(body as object)
    const answers = [
      await ask({ accessKeyId: creds.body.accessKeyId, action: 'oss:PutObject', key: 'users/alice/a' }),
      await ask({ accessKeyId: creds.body.accessKeyId, action: 'oss:ListObjects', key: 'users/' }),
      await ask({ accessKeyId: creds.body.accessKeyId, action: 'oss:GetObject', key: 'users/alice/a' }),
      await ask({ accessKeyId: creds.body.accessKeyId, action: 'oss:GetObject', key: 'users/alice/a' }, ap),
      await ask({ action: 'oss:GetObject' }),
      await h.agent().post('/v1/explain-denial').send({}),
    ]
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 404, 400, 401])
    expect(answers.slice(0, 3).map((r) => r.body.layer)).toEqual([
      'session-policy',
      'session-policy',
      'outside-session-policy',
    ])
    for (const res of answers) expectDocumented('/v1/explain-denial', 'post', res)
  })
})
