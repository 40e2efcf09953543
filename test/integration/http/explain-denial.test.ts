// POST /v1/explain-denial (issue 20) on the real app with a recording STS and a movable clock.
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import type { Config } from '../../../src/config/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../../src/server.ts'
import { createRecordingSts, type RecordingSts } from '../../fixtures/fake-sts.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { ALICE, baselineConfig } from './harness.ts'

let issuer: TestIssuer
/** A second trusted issuer whose tokens may carry the same `sub`. */
let other: TestIssuer
let config: Config
let sts: RecordingSts
let adapters: Adapters
let lines: Record<string, unknown>[]
let app: ReturnType<typeof createApp>
let offsetMs = 0
const now = () => new Date(Date.now() + offsetMs)

beforeAll(async () => {
  issuer = await startTestIssuer()
  other = await startTestIssuer()
  config = baselineConfig(issuer, (raw) => {
    raw.server.publicUrl = 'https://sts.example.test/'
    raw.issuers.push({ ...raw.issuers[0], id: 'other', issuer: other.issuer, jwksUri: other.jwksUri })
    raw.rules.push({ ...raw.rules[0], id: 'other-users', issuer: 'other' })
  })
  sts = createRecordingSts()
  const captured = createCapturingLogger('info')
  lines = captured.lines
  adapters = await buildAdapters(config, captured.logger, sts, { now })
  app = createApp(adapters.deps)
})
afterAll(async () => {
  await adapters.close()
  await issuer.close()
  await other.close()
})

async function vend(claims: Record<string, unknown>, body: Record<string, unknown> = {}) {
  const token = await issuer.sign(claims)
  const res = await request(app).post('/v1/credentials').set('Authorization', `Bearer ${token}`).send(body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as Record<string, string>
}

async function explain(claims: Record<string, unknown>, body: unknown) {
  const token = await issuer.sign(claims)
  return request(app)
    .post('/v1/explain-denial')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body))
}

describe('POST /v1/explain-denial', () => {
  it('when alice asks why DeleteObject failed with upload-only credentials, then the session policy decided, naming the rule, the action and a preset that has it', async () => {
    const creds = await vend(ALICE, { access: 'upload-only' })
    const calls = sts.calls.length
    const res = await explain(ALICE, {
      accessKeyId: creds['accessKeyId'],
      action: 'oss:DeleteObject',
      bucket: 'examplebucket',
      key: 'users/alice/a.jpg',
    })
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['action', 'fix', 'key', 'layer', 'reason', 'rule'])
    expect(res.body).toMatchObject({
      layer: 'session-policy',
      rule: 'app-users',
      action: 'oss:DeleteObject',
      key: 'users/alice/a.jpg',
    })
    expect(res.body.reason).toContain('upload-only')
    expect(res.body.fix).toContain('read-write-delete')
    expect(
      lines.find((l) => l['event'] === 'denial.explained' && l['request_id'] === res.headers['x-request-id']),
    ).toMatchObject({
      sub: 'alice',
      layer: 'session-policy',
      rule: 'app-users',
      action: 'oss:DeleteObject',
    })
    expect(sts.calls.length).toBe(calls)
  })

  it('when the key is outside the grant, then the session policy decided and the fix names the nearest allowed prefix', async () => {
    const creds = await vend(ALICE)
    const res = await explain(ALICE, {
      accessKeyId: creds['accessKeyId'],
      action: 'oss:PutObject',
      key: 'users/bob/a.jpg',
    })
    expect(res.body).toMatchObject({ layer: 'session-policy', rule: 'app-users', key: 'users/bob/a.jpg' })
    expect(res.body.fix).toContain('users/alice/')
  })

  it('when the grant allows the action on the key, then the layer is outside-session-policy, with the HTTPS condition and the EC meaning', async () => {
    const creds = await vend(ALICE)
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>Access denied by bucket policy.</Message>
  <RequestId>65AF5037B1E5347E6D09</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0003-00000204</EC>
</Error>`
    const res = await explain(ALICE, {
      error: xml,
      accessKeyId: creds['accessKeyId'],
      action: 'oss:PutObject',
      key: 'users/alice/a.jpg',
    })
    expect(res.status).toBe(200)
    expect(res.body.layer).toBe('outside-session-policy')
    expect(res.body.reason).toContain('only over HTTPS')
    expect(res.body.reason).toContain('0003-00000204')
    expect(res.body.reason).toContain('bucket policy')
    expect(res.body.reason).toContain('65AF5037B1E5347E6D09')
  })

  it('when only the OSS error XML of a signature failure is sent, then the AccessKeyId, action, bucket and key come from it', async () => {
    const creds = await vend(ALICE)
    const xml = `<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><RequestId>5C3D9B2B</RequestId><HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId><OSSAccessKeyId>${creds['accessKeyId']}</OSSAccessKeyId><SignatureProvided>x</SignatureProvided><StringToSign>DELETE


Wed, 02 Dec 2026 10:00:00 GMT
x-oss-security-token:CAIS
/examplebucket/users/alice/a%20b.jpg</StringToSign></Error>`
    const res = await explain(ALICE, { error: xml })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      layer: 'outside-session-policy',
      rule: 'app-users',
      action: 'oss:DeleteObject',
      key: 'users/alice/a b.jpg',
    })
    expect(res.body.reason).toContain('SignatureDoesNotMatch')
  })

  it('when bob asks about alice’s AccessKeyId, then 404, the same body as for a key never issued', async () => {
    const creds = await vend(ALICE)
    const bob = { ...ALICE, sub: 'bob' }
    const theirs = await explain(bob, {
      accessKeyId: creds['accessKeyId'],
      action: 'oss:GetObject',
      key: 'x',
    })
    const unknown = await explain(bob, { accessKeyId: 'STS.nope', action: 'oss:GetObject', key: 'x' })
    expect(theirs.status).toBe(404)
    expect(unknown.status).toBe(404)
    expect(theirs.body.error).toBe('not_found')
    expect(theirs.body.error_description).toBe(unknown.body.error_description)
    expect(JSON.stringify(theirs.body)).not.toContain('app-users')
    // The probe leaves a trace for the operator, naming who asked, never the key's owner or rule.
    const line = lines.find((l) => l['request_id'] === theirs.body.request_id)
    expect(line).toMatchObject({ event: 'denial.explained', sub: 'bob', layer: 'not_found', rule: null })
    expect(line?.['access_key_id']).toBe(creds['accessKeyId'])
  })

  it('when the same sub comes from another trusted issuer, then 404: (issuer, subject) together own a key', async () => {
    const creds = await vend(ALICE)
    const token = await other.sign(ALICE)
    const own = await request(app).post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({})
    expect(own.body.rule).toBe('other-users')
    const res = await request(app)
      .post('/v1/explain-denial')
      .set('Authorization', `Bearer ${token}`)
      .send({ accessKeyId: creds['accessKeyId'], action: 'oss:GetObject', key: 'users/alice/a' })
    expect(res.status).toBe(404)
  })

  it('when the credential is past its expiration, then the layer is expired', async () => {
    const creds = await vend({ ...ALICE, sub: 'grace' })
    offsetMs = 3601 * 1000
    try {
      const res = await explain(
        { ...ALICE, sub: 'grace' },
        { accessKeyId: creds['accessKeyId'], action: 'oss:PutObject', key: 'users/grace/a' },
      )
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ layer: 'expired', rule: 'app-users' })
      expect(res.body.reason).toContain(creds['expiration'])
    } finally {
      offsetMs = 0
    }
  })

  it('when the body is malformed, then 400 invalid_request', async () => {
    const cases = [
      'not json',
      {},
      { accessKeyId: 'STS.x', action: 'DeleteObject', key: 'k' },
      { accessKeyId: 'STS.x', action: 'oss:DeleteObject' },
      { accessKeyId: 'STS.x', action: 'oss:GetObject', key: 'k', extra: 1 },
      { error: 'hello' },
      { error: '<Error><Code>AccessDenied</Code></Error>' },
    ]
    for (const body of cases) {
      const res = await explain(ALICE, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error).toBe('invalid_request')
    }
  })

  it('when json credentials are issued, then grantsUrl and explainDenialUrl are built from server.publicUrl', async () => {
    const creds = await vend(ALICE)
    expect(creds['grantsUrl']).toBe('https://sts.example.test/v1/grants')
    expect(creds['explainDenialUrl']).toBe('https://sts.example.test/v1/explain-denial')
  })
})
