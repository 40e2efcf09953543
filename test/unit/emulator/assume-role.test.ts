import { describe, expect, it } from 'vitest'
import { assumeRole } from '../../../src/emulator/assume-role.ts'
import type { Caller } from '../../../src/emulator/authenticate.ts'
import { parseEmulatorConfig } from '../../../src/emulator/config.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  PARTNER_ACCESS_KEY,
  PARTNER_ACCOUNT_ID,
  PARTNER_EXTERNAL_ID,
} from '../../../src/emulator/default-config.ts'
import { AlibabaError } from '../../../src/emulator/errors.ts'

const config = parseEmulatorConfig(DEFAULT_EMULATOR_CONFIG)
const now = new Date('2026-03-01T10:00:00.250Z')
const ctx = { config, now, requestId: 'REQ-1' }
const devCaller: Caller = {
  accountId: DEV_ACCOUNT_ID,
  accessKeyId: DEV_ACCESS_KEY.id,
  session: null,
  signature: 'ACS3',
}
const partnerCaller: Caller = {
  ...devCaller,
  accountId: PARTNER_ACCOUNT_ID,
  accessKeyId: PARTNER_ACCESS_KEY.id,
}
const policy = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: 'acs:oss:*:*:examplebucket/a/*' }],
})
const good = { RoleArn: DEFAULT_ROLE_ARNS.appUser, RoleSessionName: 'alice', Policy: policy }

function codeOf(params: Record<string, string>, caller: Caller = devCaller): string {
  try {
    assumeRole(new Map(Object.entries(params)), caller, ctx)
    return 'success'
  } catch (err) {
    if (err instanceof AlibabaError) return `${err.status} ${err.code}`
    throw err
  }
}

describe('assumeRole parameter limits', () => {
  it.each<[string, string, Record<string, string>]>([
    ['everything valid', 'success', good],
    ['RoleArn missing', '400 MissingParameter.RoleArn', { RoleSessionName: 'alice' }],
    ['RoleSessionName missing', '400 MissingParameter.RoleSessionName', { RoleArn: good.RoleArn }],
    ['RoleArn not an ARN', '400 InvalidParameter.RoleArn', { ...good, RoleArn: 'oss-app-user' }],
    ['RoleArn with a path', '400 InvalidParameter.RoleArn', { ...good, RoleArn: `${good.RoleArn}/x` }],
    [
      'RoleArn naming a user',
      '404 EntityNotExist.Role',
      { ...good, RoleArn: `acs:ram::${DEV_ACCOUNT_ID}:user/bob` },
    ],
    [
      'RoleSessionName of 1 character',
      '400 InvalidParameter.RoleSessionName',
      { ...good, RoleSessionName: 'a' },
    ],
    ['RoleSessionName of 2 characters', 'success', { ...good, RoleSessionName: 'ab' }],
    ['RoleSessionName of 64 characters', 'success', { ...good, RoleSessionName: 'a'.repeat(64) }],
    [
      'RoleSessionName of 65 characters',
      '400 InvalidParameter.RoleSessionName',
      { ...good, RoleSessionName: 'a'.repeat(65) },
    ],
    [
      'RoleSessionName with *',
      '400 InvalidParameter.RoleSessionName',
      { ...good, RoleSessionName: 'abc*abc' },
    ],
    [
      'RoleSessionName in Chinese',
      '400 InvalidParameter.RoleSessionName',
      { ...good, RoleSessionName: '用户名' },
    ],
    ['RoleSessionName with . @ _ -', 'success', { ...good, RoleSessionName: 'a.b@c_d-e' }],
    ['DurationSeconds 899', '400 InvalidParameter.DurationSeconds', { ...good, DurationSeconds: '899' }],
    ['DurationSeconds 900', 'success', { ...good, DurationSeconds: '900' }],
    ['DurationSeconds 3600 (the role max)', 'success', { ...good, DurationSeconds: '3600' }],
    [
      'DurationSeconds 3601 (above the role max)',
      '400 InvalidParameter.DurationSeconds',
      { ...good, DurationSeconds: '3601' },
    ],
    [
      'DurationSeconds not a number',
      '400 InvalidParameter.DurationSeconds',
      { ...good, DurationSeconds: '1e3' },
    ],
    [
      'DurationSeconds 43200 on a 12 h role',
      'success',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.browser, DurationSeconds: '43200' },
    ],
    [
      'DurationSeconds 43201 on a 12 h role',
      '400 InvalidParameter.DurationSeconds',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.browser, DurationSeconds: '43201' },
    ],
    ['Policy not JSON', '400 InvalidParameter.PolicyGrammar', { ...good, Policy: '{"Version":"1",' }],
    [
      'Policy with Version 2',
      '400 InvalidParameter.PolicyGrammar',
      { ...good, Policy: policy.replace('"Version":"1"', '"Version":"2"') },
    ],
    [
      'Policy of 2049 characters',
      '400 InvalidParameter.PolicySize',
      { ...good, Policy: policy.replace('a/*', `a/${'x'.repeat(2049 - policy.length)}*`) },
    ],
    [
      'Policy of exactly 2048 characters',
      'success',
      { ...good, Policy: policy.replace('a/*', `a/${'x'.repeat(2048 - policy.length)}*`) },
    ],
    ['ExternalId of 1 character', '400 InvalidParameter.ExternalId', { ...good, ExternalId: 'x' }],
    ['ExternalId with #', '400 InvalidParameter.ExternalId', { ...good, ExternalId: 'ab#cd' }],
    [
      'ExternalId of 1225 characters',
      '400 InvalidParameter.ExternalId',
      { ...good, ExternalId: 'x'.repeat(1225) },
    ],
    [
      'ExternalId of 1224 allowed characters',
      'success',
      { ...good, ExternalId: `a=,.@:/-_+${'x'.repeat(1214)}` },
    ],
  ])('when %s, then the answer is %s', (_, expected, params) => {
    expect(codeOf(params)).toBe(expected)
  })
})

describe('assumeRole roles and trust', () => {
  it.each<[string, string, Record<string, string>, Caller]>([
    [
      'the role does not exist',
      '404 EntityNotExist.Role',
      { ...good, RoleArn: `acs:ram::${DEV_ACCOUNT_ID}:role/nope` },
      devCaller,
    ],
    [
      'the account does not exist',
      '404 EntityNotExist.Role',
      { ...good, RoleArn: 'acs:ram::1999999999999999:role/oss-app-user' },
      devCaller,
    ],
    [
      'the role name differs only in case',
      'success',
      { ...good, RoleArn: `acs:ram::${DEV_ACCOUNT_ID}:role/OSS-App-User` },
      devCaller,
    ],
    ['the caller account is not trusted', '403 NoPermission', good, partnerCaller],
    [
      'the cross-account role is asked without ExternalId',
      '403 NoPermission',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.partner },
      devCaller,
    ],
    [
      'the cross-account role is asked with a wrong ExternalId',
      '403 NoPermission',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.partner, ExternalId: 'sts-vend-partner-02' },
      devCaller,
    ],
    [
      'the cross-account role is asked with its ExternalId',
      'success',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.partner, ExternalId: PARTNER_EXTERNAL_ID },
      devCaller,
    ],
    [
      'the partner account asks its own role with the ExternalId (not trusted)',
      '403 NoPermission',
      { ...good, RoleArn: DEFAULT_ROLE_ARNS.partner, ExternalId: PARTNER_EXTERNAL_ID },
      partnerCaller,
    ],
  ])('when %s, then the answer is %s', (_, expected, params, caller) => {
    expect(codeOf(params, caller)).toBe(expected)
  })

  it('when an untrusted caller asks above the role max, then the answer is NoPermission (the max is not revealed)', () => {
    expect(codeOf({ ...good, DurationSeconds: '7200' }, partnerCaller)).toBe('403 NoPermission')
  })
})

describe('assumeRole success', () => {
  const { body, session } = assumeRole(
    new Map(Object.entries({ ...good, DurationSeconds: '900', SourceIdentity: 'bob' })),
    devCaller,
    ctx,
  )

  it("when a role is assumed, then the body has Alibaba's shape", () => {
    expect(Object.keys(body)).toEqual(['RequestId', 'AssumedRoleUser', 'Credentials', 'SourceIdentity'])
    expect(body.RequestId).toBe('REQ-1')
    expect(body.AssumedRoleUser.Arn).toBe(`acs:ram::${DEV_ACCOUNT_ID}:role/oss-app-user/alice`)
    expect(body.AssumedRoleUser.AssumedRoleId).toMatch(/^\d{19}:alice$/)
    expect(body.Credentials.AccessKeyId).toMatch(/^STS\.[A-Za-z0-9]{25}$/)
    expect(body.Credentials.AccessKeySecret).toMatch(/^[A-Za-z0-9]{44}$/)
    expect(body.Credentials.SecurityToken).toMatch(/^CAIS[A-Za-z0-9+/=]+$/)
    expect(body.Credentials.Expiration).toBe('2026-03-01T10:15:00Z')
    expect(body.SourceIdentity).toBe('bob')
  })

  it('when a role is assumed, then the session remembers account, role, policy and expiry', () => {
    expect(session).toMatchObject({
      accessKeyId: body.Credentials.AccessKeyId,
      accessKeySecret: body.Credentials.AccessKeySecret,
      securityToken: body.Credentials.SecurityToken,
      accountId: DEV_ACCOUNT_ID,
      roleName: 'oss-app-user',
      roleArn: DEFAULT_ROLE_ARNS.appUser,
      sessionName: 'alice',
      policy,
      externalId: null,
      callerAccountId: DEV_ACCOUNT_ID,
      callerAccessKeyId: DEV_ACCESS_KEY.id,
    })
    expect(session.expiration.toISOString()).toBe('2026-03-01T10:15:00.000Z')
  })

  it('when two sessions are issued, then their keys, secrets and tokens differ', () => {
    const second = assumeRole(new Map(Object.entries(good)), devCaller, ctx).session
    expect(second.accessKeyId).not.toBe(session.accessKeyId)
    expect(second.accessKeySecret).not.toBe(session.accessKeySecret)
    expect(second.securityToken).not.toBe(session.securityToken)
  })

  it('when no Policy is given, then the session records null (the role’s full rights)', () => {
    const { session: full } = assumeRole(
      new Map(Object.entries({ RoleArn: good.RoleArn, RoleSessionName: 'alice' })),
      devCaller,
      ctx,
    )
    expect(full.policy).toBeNull()
    expect(full.expiration.getTime() - Date.parse('2026-03-01T10:00:00Z')).toBe(3600_000)
  })
})
