import { describe, expect, it } from 'vitest'
import { assumeRole } from '../../../src/emulator/assume-role.ts'
import type { Caller } from '../../../src/emulator/authenticate.ts'
import { type EmulatorConfig, findAccessKey, parseEmulatorConfig } from '../../../src/emulator/config.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  PARTNER_ACCESS_KEY,
  PARTNER_EXTERNAL_ID,
} from '../../../src/emulator/default-config.ts'
import { AlibabaError } from '../../../src/emulator/errors.ts'

const config = parseEmulatorConfig(DEFAULT_EMULATOR_CONFIG)
const now = new Date('2026-03-01T10:00:00.250Z')
const ctx = { config, now, requestId: 'REQ-1' }

/** The caller an AccessKey of `cfg` authenticates as (what authenticate() returns for it). */
function keyCaller(accessKeyId: string, cfg: EmulatorConfig = config): Caller {
  const found = findAccessKey(cfg, accessKeyId)
  if (!found) throw new Error(`no key ${accessKeyId}`)
  return { accountId: found.account.id, accessKeyId, user: found.user, session: null, signature: 'ACS3' }
}
const devCaller = keyCaller(DEV_ACCESS_KEY.id)
const partnerCaller = keyCaller(PARTNER_ACCESS_KEY.id)
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

describe('assumeRole: who may call it (design §14)', () => {
  const roleTrust = (principal: Record<string, string[]>, condition?: Record<string, unknown>) => ({
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: principal,
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  })
  const assume = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }
  const world = parseEmulatorConfig({
    accounts: [
      {
        id: DEV_ACCOUNT_ID,
        accessKeys: [{ id: 'LTAIrootKey0001', secret: 'rootSecret0001' }],
        users: [
          { name: 'svc', accessKeys: [{ id: 'LTAIsvcKey0001', secret: 'svcSecret01' }], policy: assume },
          { name: 'nopolicy', accessKeys: [{ id: 'LTAInoPolicy01', secret: 'noPolicy01' }] },
          {
            name: 'other',
            accessKeys: [{ id: 'LTAIotherKey01', secret: 'otherSecret01' }],
            policy: {
              Version: '1',
              Statement: [
                { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
                {
                  Effect: 'Deny',
                  Action: 'sts:*',
                  Resource: `acs:ram::${DEV_ACCOUNT_ID}:role/with-external-id`,
                },
              ],
            },
          },
        ],
        roles: [
          { name: 'by-user', trustPolicy: roleTrust({ RAM: [`acs:ram::${DEV_ACCOUNT_ID}:user/svc`] }) },
          { name: 'by-account', trustPolicy: roleTrust({ RAM: [`acs:ram::${DEV_ACCOUNT_ID}:root`] }) },
          { name: 'by-service', trustPolicy: roleTrust({ Service: ['ecs.aliyuncs.com'] }) },
          {
            name: 'by-role',
            trustPolicy: roleTrust({ RAM: [`acs:ram::${DEV_ACCOUNT_ID}:role/by-account`] }),
          },
          {
            name: 'with-external-id',
            trustPolicy: roleTrust(
              { RAM: [`acs:ram::${DEV_ACCOUNT_ID}:root`] },
              { StringEquals: { 'sts:ExternalId': 'ext-0001' } },
            ),
          },
          { name: 'shorthand', trust: { accounts: [DEV_ACCOUNT_ID], externalId: 'ext-0001' } },
        ],
      },
    ],
  })
  const wctx = { config: world, now, requestId: 'REQ-2' }
  const arn = (role: string) => `acs:ram::${DEV_ACCOUNT_ID}:role/${role}`
  const asks = (role: string, extra: Record<string, string> = {}) =>
    new Map(Object.entries({ RoleArn: arn(role), RoleSessionName: 'alice', Policy: policy, ...extra }))
  function outcome(caller: Caller, role: string, extra: Record<string, string> = {}): string {
    try {
      assumeRole(asks(role, extra), caller, wctx)
      return 'success'
    } catch (err) {
      if (err instanceof AlibabaError) return `${err.status} ${err.code}: ${err.message}`
      throw err
    }
  }
  const svc = keyCaller('LTAIsvcKey0001', world)
  const denied =
    '403 NoPermission: You are not authorized to do this action. You should be authorized by RAM.'

  it.each<[string, string, string, Record<string, string>, string]>([
    [
      'a root account key',
      'LTAIrootKey0001',
      'by-account',
      {},
      '403 NoPermission: Roles may not be assumed by root accounts.',
    ],
    ['a RAM user without sts:AssumeRole', 'LTAInoPolicy01', 'by-account', {}, denied],
    [
      'a RAM user whose policy denies the role (trust and ExternalId fine)',
      'LTAIotherKey01',
      'with-external-id',
      { ExternalId: 'ext-0001' },
      denied,
    ],
    ['a RAM user with sts:AssumeRole, named in the trust', 'LTAIsvcKey0001', 'by-user', {}, 'success'],
    ['a RAM user with sts:AssumeRole, not named in the trust', 'LTAIotherKey01', 'by-role', {}, denied],
    ['a RAM user of a trusted account (root principal)', 'LTAIotherKey01', 'by-account', {}, 'success'],
    ['a RAM user asking a role only a service may assume', 'LTAIsvcKey0001', 'by-service', {}, denied],
    ['the right ExternalId', 'LTAIsvcKey0001', 'with-external-id', { ExternalId: 'ext-0001' }, 'success'],
    ['a wrong ExternalId', 'LTAIsvcKey0001', 'with-external-id', { ExternalId: 'ext-0002' }, denied],
    ['no ExternalId where the trust requires one', 'LTAIsvcKey0001', 'with-external-id', {}, denied],
    [
      'the shorthand trust with its ExternalId',
      'LTAIsvcKey0001',
      'shorthand',
      { ExternalId: 'ext-0001' },
      'success',
    ],
    ['the shorthand trust without its ExternalId', 'LTAIsvcKey0001', 'shorthand', {}, denied],
  ])('when %s assumes a role, then the answer is %s', (_, key, role, extra, expected) => {
    expect(outcome(keyCaller(key, world), role, extra)).toBe(expected)
  })

  it('when a root account key asks for a role that does not exist, then it is still NoPermission (root is refused first)', () => {
    expect(outcome(keyCaller('LTAIrootKey0001', world), 'nope')).toMatch(/^403 NoPermission/)
  })

  it('when a role session chains into a role trusting its role, then it succeeds only if its session policy allows sts:AssumeRole', () => {
    const first = assumeRole(asks('by-account', { Policy: JSON.stringify(assume) }), svc, wctx).session
    const chained: Caller = {
      ...svc,
      accountId: first.accountId,
      accessKeyId: first.accessKeyId,
      user: null,
      session: first,
    }
    expect(outcome(chained, 'by-role', { Policy: policy })).toBe('success')
    const narrow = assumeRole(asks('by-account'), svc, wctx).session
    expect(outcome({ ...chained, session: narrow }, 'by-role')).toBe(denied)
  })

  it('when a session with a SourceIdentity chains, then the new session keeps it and a different one is refused', () => {
    const first = assumeRole(
      asks('by-account', { Policy: JSON.stringify(assume), SourceIdentity: 'alice@example.com' }),
      svc,
      wctx,
    )
    expect(first.body.SourceIdentity).toBe('alice@example.com')
    const chained: Caller = {
      ...svc,
      accountId: DEV_ACCOUNT_ID,
      accessKeyId: first.session.accessKeyId,
      user: null,
      session: first.session,
    }
    const kept = assumeRole(asks('by-role'), chained, wctx)
    expect(kept.session.sourceIdentity).toBe('alice@example.com')
    expect(kept.body.SourceIdentity).toBe('alice@example.com')
    expect(outcome(chained, 'by-role', { SourceIdentity: 'alice@example.com' })).toBe('success')
    expect(outcome(chained, 'by-role', { SourceIdentity: 'mallory' })).toMatch(
      /^400 InvalidParameter\.SourceIdentity: .*cannot be changed/,
    )
  })

  it.each([
    ['a', false],
    ['ab', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['alice+tag=x,y.z@example-1_2', true],
    ['alice smith', false],
    ['alice/x', false],
    ['用户', false],
  ])('when SourceIdentity is %j, then it is accepted: %s', (value, ok) => {
    const result = outcome(svc, 'by-user', { SourceIdentity: value })
    expect(result === 'success').toBe(ok)
    if (!ok) expect(result).toMatch(/^400 InvalidParameter\.SourceIdentity/)
  })
})
