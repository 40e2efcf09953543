import { describe, expect, it } from 'vitest'
import { toStsCredentials } from '../../../src/sts/assume-role-response.ts'
import type { AssumeRoleInput } from '../../../src/types.ts'

const now = new Date('2026-01-01T10:00:00Z')
const input: AssumeRoleInput = {
  roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
  roleSessionName: 'app-alice',
  policy: '{}',
  durationSeconds: 3600,
}
const body = () => ({
  requestId: 'RID-1',
  assumedRoleUser: { arn: `${input.roleArn}/${input.roleSessionName}`, assumedRoleId: '1:app-alice' },
  credentials: {
    accessKeyId: 'STS.abc',
    accessKeySecret: 'secret',
    securityToken: 'CAIStoken',
    expiration: '2026-01-01T11:00:00Z',
  },
})

type Body = ReturnType<typeof body>

describe('toStsCredentials', () => {
  it('when the answer is well formed, then the credentials carry it, with Expiration as a Date', () => {
    expect(toStsCredentials(body(), input, now)).toEqual({
      accessKeyId: 'STS.abc',
      accessKeySecret: 'secret',
      securityToken: 'CAIStoken',
      expiration: new Date('2026-01-01T11:00:00Z'),
      requestId: 'RID-1',
    })
  })

  it('when Expiration has milliseconds, then it is accepted and truncated to the second', () => {
    const b = body()
    b.credentials.expiration = '2026-01-01T10:59:59.999Z'
    expect(toStsCredentials(b, input, now).expiration.toISOString()).toBe('2026-01-01T10:59:59.000Z')
  })

  it('when the role name differs only in case (Alibaba lower-cases ARNs), then it is accepted', () => {
    const b = body()
    b.assumedRoleUser.arn = b.assumedRoleUser.arn.replace('oss-app-user', 'OSS-App-User')
    expect(toStsCredentials(b, input, now).accessKeyId).toBe('STS.abc')
  })

  it.each<[string, (b: Body) => void]>([
    ['SecurityToken is missing', (b) => Reflect.deleteProperty(b.credentials, 'securityToken')],
    ['AccessKeyId lacks the STS. prefix', (b) => Object.assign(b.credentials, { accessKeyId: 'LTAIabc' })],
    ['AccessKeySecret is empty', (b) => Object.assign(b.credentials, { accessKeySecret: '' })],
    [
      'Expiration is in the past',
      (b) => Object.assign(b.credentials, { expiration: '2026-01-01T09:59:59Z' }),
    ],
    ['Expiration is now', (b) => Object.assign(b.credentials, { expiration: '2026-01-01T10:00:00Z' })],
    ['Expiration is not a date', (b) => Object.assign(b.credentials, { expiration: 'not-a-date' })],
    [
      'Expiration has an offset',
      (b) => Object.assign(b.credentials, { expiration: '2026-01-01T19:00:00+08:00' }),
    ],
    [
      'Expiration is a year away',
      (b) => Object.assign(b.credentials, { expiration: '2027-01-01T10:00:00Z' }),
    ],
    [
      'the Arn names another role',
      (b) => Object.assign(b.assumedRoleUser, { arn: 'acs:ram::1000000000000001:role/admin/app-alice' }),
    ],
    [
      'the Arn names another session',
      (b) => Object.assign(b.assumedRoleUser, { arn: `${input.roleArn}/app-bob` }),
    ],
    [
      'the Arn names another account',
      (b) =>
        Object.assign(b.assumedRoleUser, { arn: `acs:ram::1000000000000002:role/oss-app-user/app-alice` }),
    ],
    ['there is no AssumedRoleUser', (b) => Reflect.deleteProperty(b, 'assumedRoleUser')],
    ['there are no Credentials', (b) => Reflect.deleteProperty(b, 'credentials')],
  ])('when %s, then upstream_error', (_, bend) => {
    const b = body()
    bend(b)
    expect(() => toStsCredentials(b, input, now)).toThrow(expect.objectContaining({ code: 'upstream_error' }))
  })

  it('when the body is not an object, then upstream_error', () => {
    expect(() => toStsCredentials('nope', input, now)).toThrow(
      expect.objectContaining({ code: 'upstream_error' }),
    )
  })
})
