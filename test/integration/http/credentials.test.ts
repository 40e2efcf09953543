import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ALICE, createHarness, events, type Harness } from './harness.ts'

const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

let h: Harness
beforeEach(async () => {
  h = await createHarness()
})
afterEach(async () => {
  await h.close()
})

describe('POST /v1/credentials', () => {
  it('when alice asks with a valid token, then she gets json credentials for users/alice/ and one AssumeRole with the rendered policy', async () => {
    const token = await h.token()
    const res = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`).send({})
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'accessKeyId',
        'accessKeySecret',
        'securityToken',
        'expiration',
        'refreshAfter',
        'region',
        'endpoint',
        'bucket',
        'accessPoint',
        'prefix',
        'access',
        'rule',
        'grantsUrl',
        'explainDenialUrl',
      ].sort(),
    )
    const issued = h.sts.issued[0]!
    expect(res.body).toMatchObject({
      accessKeyId: issued.accessKeyId,
      accessKeySecret: issued.accessKeySecret,
      securityToken: issued.securityToken,
      region: 'cn-hangzhou',
      endpoint: 'oss-cn-hangzhou.aliyuncs.com',
      bucket: 'examplebucket',
      accessPoint: null,
      prefix: 'users/alice/',
      access: 'read-write',
      rule: 'app-users',
    })
    expect(res.body.expiration).toMatch(EXPIRATION)
    expect(Date.parse(res.body.expiration) - Date.parse(res.body.refreshAfter)).toBe(300_000)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['pragma']).toBe('no-cache')
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,64}$/)

    expect(h.sts.calls).toHaveLength(1)
    const call = h.sts.calls[0]!
    expect(call.roleArn).toBe('acs:ram::1000000000000001:role/oss-app-user')
    expect(call.roleSessionName).toBe('app-alice')
    expect(call.durationSeconds).toBe(3600)
    expect(call.externalId).toBeUndefined()
    expect(call.sourceIdentity).toBe('alice')
    const policy = JSON.parse(call.policy)
    const resources = JSON.stringify(policy.Statement.map((s: { Resource: unknown }) => s.Resource))
    expect(resources).toContain('acs:oss:*:*:examplebucket/users/alice/*')
    expect(call.policy).not.toContain('users/bob')

    const [line] = events(h.lines, 'credentials.issued')
    expect(line).toMatchObject({
      request_id: res.headers['x-request-id'],
      iss: h.issuer.issuer,
      sub: 'alice',
      rule: 'app-users',
      role_arn: call.roleArn,
      session_name: 'app-alice',
      duration_seconds: 3600,
      expiration: res.body.expiration,
      access_key_id: issued.accessKeyId,
      sts_request_id: issued.requestId,
      source_identity: 'alice',
      cache: 'miss',
    })
    expect(line?.['policy_sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(typeof line?.['client_ip']).toBe('string')
  })

  it('when the same caller asks twice, then the second answer is a cache hit with no new AssumeRole', async () => {
    const token = await h.token()
    const first = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`)
    const second = await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(second.status).toBe(200)
    expect(second.body.accessKeyId).toBe(first.body.accessKeyId)
    expect(h.sts.calls).toHaveLength(1)
    const lines = events(h.lines, 'credentials.issued')
    expect(lines.map((l) => l['cache'])).toEqual(['miss', 'hit'])
    expect(lines[1]?.['sts_request_id']).toBe(lines[0]?.['sts_request_id'])
  })

  it('when fields come as GET query parameters, then they narrow the grant', async () => {
    const token = await h.token()
    const res = await h
      .agent()
      .get('/v1/credentials?prefix=users/alice/photos/&access=read&durationSeconds=900')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ prefix: 'users/alice/photos/', access: 'read' })
    expect(h.sts.calls[0]?.durationSeconds).toBe(900)
    expect(h.sts.calls[0]?.policy).toContain('users/alice/photos/')
  })

  it('when the rule is cross-account, then AssumeRole carries the rule ExternalId and the custom actions', async () => {
    const token = await h.token({ sub: 'ci-7', partner: 'acme' })
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${token}`)
      .send({ format: 'json' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      bucket: 'partner-data',
      region: 'cn-shanghai',
      access: 'custom',
      rule: 'partner',
    })
    expect(h.sts.calls[0]).toMatchObject({
      roleArn: 'acs:ram::1000000000000002:role/broker',
      externalId: 'ext-acme-7f3a',
      roleSessionName: 'partner-ci-7',
      durationSeconds: 900,
    })
  })

  it('when the grant is through an access point, then bucket is the alias and accessPoint the name', async () => {
    const token = await h.token({ sub: 'bob', groups: ['ap'] })
    const res = await h.agent().get('/v1/credentials').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      bucket: 'ap-01-ossalias',
      accessPoint: 'ap-01',
      endpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
      prefix: 'dir1/bob/',
      access: 'read',
    })
    expect(h.sts.calls[0]?.policy).toContain('accesspoint/ap-01')
  })

  it('when the rule binds the source IP, then the policy names the socket address, not X-Forwarded-For', async () => {
    const token = await h.token({ sub: 'carol', groups: ['analysts'], team: 'geo' })
    const res = await h
      .agent()
      .get('/v1/credentials?format=ossbrowser')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Forwarded-For', '203.0.113.9')
    expect(res.status).toBe(200)
    const policy = h.sts.calls[0]!.policy
    expect(policy).toContain('acs:SourceIp')
    expect(policy).toContain('127.0.0.1')
    expect(policy).not.toContain('203.0.113.9')
  })
})

describe('formats', () => {
  const fetch = async (format: string, claims: Record<string, unknown> = ALICE) => {
    const token = await h.token(claims)
    const res = await h
      .agent()
      .get(`/v1/credentials?format=${format}`)
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    return { body: res.body as Record<string, unknown>, issued: h.sts.issued.at(-1)! }
  }

  it('when format=appserver, then the body is the mobile SDKs AppServer shape', async () => {
    const { body, issued } = await fetch('appserver')
    expect(body).toEqual({
      StatusCode: 200,
      AccessKeyId: issued.accessKeyId,
      AccessKeySecret: issued.accessKeySecret,
      SecurityToken: issued.securityToken,
      Expiration: expect.stringMatching(EXPIRATION),
    })
  })

  it('when format=credentials-uri, then the body is the credentials-URI shape with Code Success', async () => {
    const { body, issued } = await fetch('credentials-uri')
    expect(body).toEqual({
      Code: 'Success',
      AccessKeyId: issued.accessKeyId,
      AccessKeySecret: issued.accessKeySecret,
      SecurityToken: issued.securityToken,
      Expiration: expect.stringMatching(EXPIRATION),
    })
  })

  it('when format=aliyun-cli, then the body is an External-mode StsToken profile', async () => {
    const { body, issued } = await fetch('aliyun-cli')
    expect(body).toEqual({
      mode: 'StsToken',
      access_key_id: issued.accessKeyId,
      access_key_secret: issued.accessKeySecret,
      sts_token: issued.securityToken,
    })
  })

  it('when format=ossbrowser, then presetPath and a base64 authorization code ossbrowser accepts come back', async () => {
    const { body, issued } = await fetch('ossbrowser', { sub: 'carol', groups: ['analysts'], team: 'geo' })
    expect(body['presetPath']).toBe('oss://examplebucket/teams/geo/')
    const code = JSON.parse(Buffer.from(String(body['authorizationCode']), 'base64').toString('utf8'))
    expect(code).toEqual({
      id: issued.accessKeyId,
      secret: issued.accessKeySecret,
      stoken: issued.securityToken,
      expiration: body['expiration'],
      region: 'oss-cn-hangzhou',
      osspath: 'oss://examplebucket/teams/geo/',
      privilege: 'all',
      eptpl: 'https://oss-cn-hangzhou.aliyuncs.com',
    })
  })

  it.each([
    ['read', 'readOnly'],
    ['read-write', 'readWrite'],
  ])('when the access is %s, then the ossbrowser privilege is %s', async (access, privilege) => {
    const token = await h.token()
    const res = await h
      .agent()
      .get(`/v1/credentials?format=ossbrowser&access=${access}`)
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    const code = JSON.parse(Buffer.from(res.body.authorizationCode, 'base64').toString('utf8'))
    expect(code.privilege).toBe(privilege)
  })
})
