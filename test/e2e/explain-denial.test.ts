// The denial doctor end to end (issue 20): sts-vend vends through the STS emulator, ali-oss (V4) is refused
// by the OSS emulator, and POST /v1/explain-denial names the layer that decided.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here.
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  type Emulator,
  startEmulator,
} from '../../src/emulator/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../src/server.ts'
import { createAlibabaStsClient } from '../../src/sts/index.ts'
import { staticCredential } from '../fixtures/emulator-sdk.ts'
import { type OssClient, ossClient, outcome } from '../fixtures/oss.ts'
import { corpIssuer } from '../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'

let emulator: Emulator
let issuer: TestIssuer
let adapters: Adapters
let app: ReturnType<typeof createApp>
let offsetSeconds = 0
const serviceNow = () => new Date(Date.now() + offsetSeconds * 1000)

/** The default emulator world, with a bucket policy that denies uploads under users/alice/locked/. */
function emulatorConfig() {
  const config = structuredClone(DEFAULT_EMULATOR_CONFIG)
  const bucket = config.buckets?.find((b) => b.name === 'examplebucket')
  if (!bucket) throw new Error('examplebucket is missing from the default emulator config')
  bucket.policy = {
    Version: '1',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['oss:PutObject'],
        Principal: ['*'],
        Resource: ['acs:oss:*:*:examplebucket/users/alice/locked/*'],
      },
    ],
  }
  return config
}

beforeAll(async () => {
  ;[emulator, issuer] = await Promise.all([startEmulator({ config: emulatorConfig() }), startTestIssuer()])
  const rule = (id: string, when: Record<string, unknown>, access: string) => ({
    id,
    issuer: 'corp',
    when,
    roleArn: DEFAULT_ROLE_ARNS.appUser,
    sessionName: `${id}-\${sub}`,
    oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'users/${sub}/', access },
    // The emulator's OSS side listens on plain http here: acs:SecureTransport is false.
    conditions: { secureTransport: false },
  })
  const config = loadConfig({
    sts: { endpoint: emulator.endpoint, protocol: 'http', connectTimeoutMs: 1000, readTimeoutMs: 2000 },
    issuers: [corpIssuer(issuer)],
    rules: [
      rule('uploads', { groups: { contains: 'uploader' } }, 'upload-only'),
      rule('app-users', {}, 'read-write'),
    ],
  })
  const { logger } = createCapturingLogger('info')
  const sts = createAlibabaStsClient({
    sts: config.sts,
    logger,
    credential: staticCredential({ accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }),
  })
  adapters = await buildAdapters(config, logger, sts, { now: serviceNow })
  app = createApp(adapters.deps)
})

afterAll(async () => {
  await adapters?.close()
  await Promise.all([emulator?.close(), issuer?.close()])
})

const ALICE = { sub: 'alice', groups: ['uploader'] }

async function vend(claims: Record<string, unknown>) {
  const token = await issuer.sign(claims)
  const res = await request(app).post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({})
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as Record<string, string>
}

function client(creds: Record<string, string>): OssClient {
  return ossClient({
    url: emulator.ossUrl,
    bucket: creds['bucket'] ?? '',
    accessKeyId: creds['accessKeyId'] ?? '',
    accessKeySecret: creds['accessKeySecret'] ?? '',
    stsToken: creds['securityToken'] ?? '',
  })
}

async function explain(claims: Record<string, unknown>, body: Record<string, unknown>) {
  const token = await issuer.sign(claims)
  return request(app).post('/v1/explain-denial').set('Authorization', `Bearer ${token}`).send(body)
}

describe('explain-denial through the OSS emulator and ali-oss', () => {
  it('when alice deletes with upload-only credentials, then OSS says 403 and explain-denial says session-policy, rule uploads, oss:DeleteObject', async () => {
    const creds = await vend(ALICE)
    expect(creds['rule']).toBe('uploads')
    const oss = client(creds)
    expect(await outcome(oss.put('users/alice/a.txt', Buffer.from('a')))).toBe('ok')
    expect(await outcome(oss.delete('users/alice/a.txt'))).toBe('AccessDenied')
    const stsCalls = emulator.counters.snapshot().assumeRoleCalls
    const res = await explain(ALICE, {
      accessKeyId: creds['accessKeyId'],
      action: 'oss:DeleteObject',
      bucket: 'examplebucket',
      key: 'users/alice/a.txt',
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ layer: 'session-policy', rule: 'uploads', action: 'oss:DeleteObject' })
    expect(emulator.counters.snapshot().assumeRoleCalls).toBe(stsCalls)
  })

  it('when a bucket-policy Deny refuses an upload the grant allows, then explain-denial says outside-session-policy', async () => {
    const creds = await vend(ALICE)
    const oss = client(creds)
    expect(await outcome(oss.put('users/alice/locked/b.txt', Buffer.from('b')))).toBe('AccessDenied')
    const res = await explain(ALICE, {
      accessKeyId: creds['accessKeyId'],
      action: 'oss:PutObject',
      key: 'users/alice/locked/b.txt',
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      layer: 'outside-session-policy',
      rule: 'uploads',
      action: 'oss:PutObject',
    })
    expect(res.body.reason).toContain('bucket policy')
  })

  it('when bob asks about alice’s AccessKeyId, then 404', async () => {
    const creds = await vend(ALICE)
    const res = await explain(
      { sub: 'bob', groups: ['uploader'] },
      { accessKeyId: creds['accessKeyId'], action: 'oss:DeleteObject', key: 'users/alice/a.txt' },
    )
    expect(res.status).toBe(404)
    expect(res.body.error).toBe('not_found')
  })

  it('when the credential is past its expiration (both clocks moved), then OSS refuses it and explain-denial says expired', async () => {
    const creds = await vend({ sub: 'carol' })
    const oss = client(creds)
    const expiresIn = Math.ceil((Date.parse(creds['expiration'] ?? '') - Date.now()) / 1000) + 5
    emulator.clock.setOffsetSeconds(expiresIn)
    offsetSeconds = expiresIn
    try {
      expect(await outcome(oss.put('users/carol/c.txt', Buffer.from('c')))).not.toBe('ok')
      const res = await explain(
        { sub: 'carol' },
        { accessKeyId: creds['accessKeyId'], action: 'oss:PutObject', key: 'users/carol/c.txt' },
      )
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ layer: 'expired', rule: 'app-users' })
    } finally {
      emulator.clock.setOffsetSeconds(0)
      offsetSeconds = 0
    }
  })
})
