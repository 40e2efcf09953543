// Design §10's evaluation order, one row per rule: explicit Deny, the session ceiling, role or bucket policy, access point delegation.
import { describe, expect, it } from 'vitest'
import { parseEmulatorConfig } from '../../../../src/emulator/config.ts'
import type { OssCaller } from '../../../../src/emulator/oss/authenticate.ts'
import { authorizeOss, type OssNetwork, ossResources } from '../../../../src/emulator/oss/authorize.ts'
import type { OssOperation } from '../../../../src/emulator/oss/operations.ts'
import { resolveTarget } from '../../../../src/emulator/oss/routing.ts'
import type { IssuedSession } from '../../../../src/emulator/sessions.ts'

const A = '1000000000000001'
const B = '1000000000000002'
const R = 'cn-hangzhou'
const ap = (name: string) => `acs:oss:${R}:${A}:accesspoint/${name}`
const allow = (
  Action: string | string[],
  Resource: string | string[],
  extra: Record<string, unknown> = {},
) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
})
const deny = (
  Action: string | string[],
  Resource: string | string[],
  extra: Record<string, unknown> = {},
) => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
})
const doc = (...Statement: unknown[]) => ({ Version: '1', Statement })
const role = (name: string, policy: unknown) => ({ name, trust: { accounts: [A] }, policy })
const bucket = (name: string, policy: unknown = null, account = A) => ({ name, account, region: R, policy })
const delegate = (key: string, value: string, name: string) =>
  allow('oss:*', [`acs:oss:*:${A}:${name}`, `acs:oss:*:${A}:${name}/*`], {
    Principal: ['*'],
    Condition: { StringEquals: { [key]: [value] } },
  })

const config = parseEmulatorConfig({
  accounts: [
    {
      id: A,
      accessKeys: [{ id: 'LTAIaccountA01', secret: 'secretA01' }],
      roles: [
        role(
          'app',
          doc(
            allow('oss:*', [
              'acs:oss:*:*:bkt1',
              'acs:oss:*:*:bkt1/*',
              'acs:oss:*:*:bkt2/*',
              `acs:oss:*:${A}:accesspoint/*`,
            ]),
          ),
        ),
        role(
          'denier',
          doc(allow('oss:*', 'acs:oss:*:*:bkt1/*'), deny('oss:DeleteObject', 'acs:oss:*:*:bkt1/*')),
        ),
        role('narrow', doc(allow('oss:GetObject', 'acs:oss:*:*:bkt1/public/*'))),
      ],
    },
    {
      id: B,
      accessKeys: [{ id: 'LTAIaccountB01', secret: 'secretB01' }],
      roles: [{ name: 'partner', trust: { accounts: [A] }, policy: doc(allow('oss:*', '*')) }],
    },
  ],
  buckets: [
    bucket(
      'bkt1',
      doc(
        delegate('oss:DataAccessPointArn', `acs:oss:oss-${R}:${A}:accesspoint/ap-01`, 'bkt1'),
        delegate('oss:DataAccessPointArn', ap('ap-02'), 'bkt1'),
        allow('oss:GetObject', 'acs:oss:*:*:bkt1/shared/*', { Principal: [B] }),
        deny('oss:PutObject', 'acs:oss:*:*:bkt1/locked/*', { Principal: ['*'] }),
        allow('oss:PutObject', 'acs:oss:*:*:bkt1/drop/*', {
          Principal: [`arn:sts::${A}:assumed-role/narrow/*`],
        }),
      ),
    ),
    bucket(
      'bkt2',
      doc({
        Effect: 'Deny',
        Action: 'oss:GetObject',
        NotResource: 'acs:oss:*:*:bkt2/open/*',
        Principal: ['*'],
      }),
    ),
    bucket('bkt3', doc(delegate('oss:DataAccessPointAccount', A, 'bkt3'))),
    bucket('bkt4', doc(delegate('oss:AccessPointNetworkOrigin', 'vpc', 'bkt4'))),
    bucket('bkt5'),
  ],
  accessPoints: [
    {
      name: 'ap-01',
      alias: 'ap-01-alias',
      bucket: 'bkt1',
      policy: doc(
        allow('oss:*', `${ap('ap-01')}/object/dir1/*`, { Principal: [A] }),
        allow('oss:ListObjects', ap('ap-01'), {
          Principal: [A],
          Condition: { StringLike: { 'oss:Prefix': ['dir1/*'] } },
        }),
        deny('oss:GetObject', `${ap('ap-01')}/object/dir1/secret*`, { Principal: ['*'] }),
      ),
    },
    {
      name: 'ap-02',
      alias: 'ap-02-alias',
      bucket: 'bkt1',
      policy: doc(
        allow('oss:*', `${ap('ap-02')}/object/*`, { Principal: [`arn:sts::${A}:assumed-role/app/alice`] }),
      ),
    },
    {
      name: 'ap-acct',
      alias: 'ap-acct-alias',
      bucket: 'bkt3',
      policy: doc(allow('oss:*', `${ap('ap-acct')}/object/*`, { Principal: ['*'] })),
    },
    {
      name: 'ap-vpc',
      alias: 'ap-vpc-alias',
      bucket: 'bkt4',
      networkOrigin: 'vpc',
      policy: doc(allow('oss:*', `${ap('ap-vpc')}/object/*`, { Principal: ['*'] })),
    },
    {
      name: 'ap-net',
      alias: 'ap-net-alias',
      bucket: 'bkt4',
      policy: doc(allow('oss:*', `${ap('ap-net')}/object/*`, { Principal: ['*'] })),
    },
    {
      name: 'ap-none',
      alias: 'ap-none-alias',
      bucket: 'bkt5',
      policy: doc(allow('oss:*', `${ap('ap-none')}/object/*`, { Principal: ['*'] })),
    },
  ],
})

interface Who {
  account?: string
  role?: string
  session?: string
  /** The session policy; null for none; omitted for an account AccessKey. */
  policy?: unknown
}

function callerOf(who: Who): OssCaller {
  const accountId = who.account ?? A
  if (who.policy === undefined)
    return { accessKeyId: 'LTAIkey', accountId, session: null, user: null, scheme: 'v1' }
  const roleName = who.role ?? 'app'
  const sessionName = who.session ?? 'alice'
  const session: IssuedSession = {
    accessKeyId: 'STS.x',
    accessKeySecret: 's',
    securityToken: 't',
    accountId,
    roleName,
    roleArn: `acs:ram::${accountId}:role/${roleName}`,
    sessionName,
    arn: `acs:ram::${accountId}:role/${roleName}/${sessionName}`,
    assumedRoleId: `1:${sessionName}`,
    policy: who.policy === null ? null : JSON.stringify(who.policy),
    externalId: null,
    sourceIdentity: null,
    callerAccountId: A,
    callerAccessKeyId: 'LTAIkey',
    issuedAt: new Date(0),
    expiration: new Date(1),
  }
  return { accessKeyId: 'STS.x', accountId, session, user: null, scheme: 'v1' }
}

const get: OssOperation = { name: 'GetObject', action: 'oss:GetObject', listingPrefix: null }
const put: OssOperation = { name: 'PutObject', action: 'oss:PutObject', listingPrefix: null }
const del: OssOperation = { name: 'DeleteObject', action: 'oss:DeleteObject', listingPrefix: null }
const list = (prefix: string): OssOperation => ({
  name: 'ListObjects',
  action: 'oss:ListObjects',
  listingPrefix: prefix,
})
const internet: OssNetwork = { sourceIp: '127.0.0.1', secureTransport: true, vpcId: null }

const alice = doc(allow(['oss:GetObject', 'oss:PutObject'], 'acs:oss:*:*:bkt1/users/alice/*'))
const viaAp = (name: string, extra: string[] = []) =>
  doc(
    allow(
      ['oss:GetObject', 'oss:PutObject', 'oss:ListObjects', ...extra],
      [`${ap(name)}`, `${ap(name)}/object/*`],
    ),
  )

const rows: [string, Who, string, OssOperation, Partial<OssNetwork>, string][] = [
  ['the session policy allows it', { policy: alice }, '/bkt1/users/alice/x', get, {}, 'allowed'],
  [
    'the session policy does not allow it',
    { policy: alice },
    '/bkt1/users/bob/x',
    get,
    {},
    'the session policy does not allow it',
  ],
  [
    'there is no session policy: the role alone decides',
    { policy: null },
    '/bkt1/users/bob/x',
    get,
    {},
    'allowed',
  ],
  [
    'the role policy denies explicitly',
    { role: 'denier', policy: null },
    '/bkt1/x',
    del,
    {},
    'an explicit Deny in the role policy',
  ],
  [
    'the bucket policy denies explicitly',
    { policy: doc(allow('oss:PutObject', '*')) },
    '/bkt1/locked/x',
    put,
    {},
    'an explicit Deny in the bucket policy',
  ],
  [
    'the bucket policy allows what the role does not',
    { role: 'narrow', session: 'n', policy: doc(allow('oss:PutObject', 'acs:oss:*:*:bkt1/drop/*')) },
    '/bkt1/drop/x',
    put,
    {},
    'allowed',
  ],
  [
    'the bucket policy allows but the session policy does not (never bypassed)',
    { role: 'narrow', session: 'n', policy: doc(allow('oss:GetObject', 'acs:oss:*:*:bkt1/public/*')) },
    '/bkt1/drop/x',
    put,
    {},
    'the session policy does not allow it',
  ],
  [
    'another account is granted by the bucket policy',
    { account: B, role: 'partner', policy: doc(allow('oss:GetObject', 'acs:oss:*:*:bkt1/*')) },
    '/bkt1/shared/x',
    get,
    {},
    'allowed',
  ],
  [
    'another account is not granted by the bucket policy, however wide its role',
    { account: B, role: 'partner', policy: doc(allow('oss:*', '*')) },
    '/bkt1/other',
    get,
    {},
    'neither the role policy (in the bucket owner account) nor the bucket policy allows it',
  ],
  [
    'a Deny with NotResource matches outside its resource',
    { policy: null },
    '/bkt2/closed/x',
    get,
    {},
    'an explicit Deny in the bucket policy',
  ],
  ['a Deny with NotResource does not match inside it', { policy: null }, '/bkt2/open/x', get, {}, 'allowed'],
  [
    'through ap-01, delegated by ARN (oss-region form), inside dir1',
    { policy: viaAp('ap-01') },
    '/ap-01-alias/dir1/x',
    get,
    {},
    'allowed',
  ],
  [
    'through ap-01, the access point policy denies explicitly',
    { policy: viaAp('ap-01') },
    '/ap-01-alias/dir1/secret.txt',
    get,
    {},
    'an explicit Deny in the access point policy',
  ],
  [
    'through ap-01, outside dir1',
    { policy: viaAp('ap-01') },
    '/ap-01-alias/dir2/x',
    get,
    {},
    'the access point policy of ap-01 does not allow it',
  ],
  ['through ap-01, listing dir1/', { policy: viaAp('ap-01') }, '/ap-01-alias', list('dir1/'), {}, 'allowed'],
  [
    'through ap-01, listing the root',
    { policy: viaAp('ap-01') },
    '/ap-01-alias',
    list(''),
    {},
    'the access point policy of ap-01 does not allow it',
  ],
  [
    'through ap-01 with a session policy on the bucket ARN only',
    { policy: doc(allow('oss:GetObject', 'acs:oss:*:*:bkt1/*')) },
    '/ap-01-alias/dir1/x',
    get,
    {},
    'the session policy does not allow it',
  ],
  [
    'through ap-02, the access point names this session',
    { policy: viaAp('ap-02') },
    '/ap-02-alias/x',
    get,
    {},
    'allowed',
  ],
  [
    'through ap-02, another session of the same role',
    { session: 'bob', policy: viaAp('ap-02') },
    '/ap-02-alias/x',
    get,
    {},
    'the access point policy of ap-02 does not allow it',
  ],
  [
    'through ap-acct, delegated by DataAccessPointAccount',
    { policy: viaAp('ap-acct') },
    '/ap-acct-alias/x',
    put,
    {},
    'allowed',
  ],
  [
    'through the vpc access point from a VPC',
    { policy: viaAp('ap-vpc') },
    '/ap-vpc-alias/x',
    put,
    { vpcId: 'vpc-1' },
    'allowed',
  ],
  [
    'through the vpc access point from the internet',
    { policy: viaAp('ap-vpc') },
    '/ap-vpc-alias/x',
    put,
    {},
    'access point ap-vpc accepts requests from a VPC only',
  ],
  [
    'through an internet access point when only vpc ones are delegated',
    { policy: viaAp('ap-net') },
    '/ap-net-alias/x',
    put,
    {},
    'the bucket policy does not delegate to access point ap-net',
  ],
  [
    'through an access point the bucket policy does not delegate to',
    { policy: viaAp('ap-none') },
    '/ap-none-alias/x',
    put,
    {},
    'the bucket policy does not delegate to access point ap-none',
  ],
  ['the owner account AccessKey on its bucket', {}, '/bkt5/x', del, {}, 'allowed'],
  [
    'another account AccessKey without a bucket policy grant',
    { account: B },
    '/bkt1/x',
    get,
    {},
    'the account does not own the bucket and the bucket policy does not allow it',
  ],
  [
    'another account AccessKey granted by the bucket policy',
    { account: B },
    '/bkt1/shared/x',
    get,
    {},
    'allowed',
  ],
  [
    'SecureTransport is required and the request is https',
    { policy: doc(allow('oss:GetObject', '*', { Condition: { Bool: { 'acs:SecureTransport': 'true' } } })) },
    '/bkt1/x',
    get,
    {},
    'allowed',
  ],
  [
    'SecureTransport is required and the request is http',
    { policy: doc(allow('oss:GetObject', '*', { Condition: { Bool: { 'acs:SecureTransport': 'true' } } })) },
    '/bkt1/x',
    get,
    { secureTransport: false },
    'the session policy does not allow it',
  ],
  [
    'the SourceIp matches',
    {
      policy: doc(
        allow('oss:GetObject', '*', { Condition: { IpAddress: { 'acs:SourceIp': '127.0.0.1/32' } } }),
      ),
    },
    '/bkt1/x',
    get,
    {},
    'allowed',
  ],
  [
    'the SourceIp differs',
    {
      policy: doc(
        allow('oss:GetObject', '*', { Condition: { IpAddress: { 'acs:SourceIp': '127.0.0.1/32' } } }),
      ),
    },
    '/bkt1/x',
    get,
    { sourceIp: '127.0.0.2' },
    'the session policy does not allow it',
  ],
]

describe('OSS authorization', () => {
  it.each(
    rows.map(([why, who, path, operation, network, reason]) => ({
      why,
      who,
      path,
      operation,
      network,
      reason,
    })),
  )('when $why ($operation.action $path), then: $reason', ({ who, path, operation, network, reason }) => {
    const target = resolveTarget(config, path, '127.0.0.1:1')
    if (!target) throw new Error(`no target for ${path}`)
    const result = authorizeOss(config, callerOf(who), target, operation, { ...internet, ...network })
    expect(result.reason).toBe(reason)
    expect(result.allowed).toBe(reason === 'allowed')
  })

  it.each([
    ['/bkt1/users/a.txt', `acs:oss:${R}:${A}:bkt1/users/a.txt`, `acs:oss:${R}:${A}:bkt1/users/a.txt`, null],
    ['/bkt1', `acs:oss:${R}:${A}:bkt1`, `acs:oss:${R}:${A}:bkt1`, null],
    ['/ap-01-alias/dir1/a', `${ap('ap-01')}/object/dir1/a`, `acs:oss:${R}:${A}:bkt1/dir1/a`, ap('ap-01')],
    ['/ap-01-alias', ap('ap-01'), `acs:oss:${R}:${A}:bkt1`, ap('ap-01')],
  ])(
    'when %s is addressed, then the identity resource is %s and the bucket policy sees %s',
    (path, identity, bucketArn, apArn) => {
      const target = resolveTarget(config, path, '127.0.0.1:1')
      if (!target) throw new Error(`no target for ${path}`)
      expect(ossResources(target)).toEqual({ identity, bucket: bucketArn, accessPoint: apArn })
    },
  )
})

describe('OSS authorization of a RAM user AccessKey', () => {
  const userCaller = (policy: unknown): OssCaller => ({
    accessKeyId: 'LTAIuserKey',
    accountId: A,
    session: null,
    user: { name: 'sts-vend', accessKeys: [], policy: policy as never },
    scheme: 'v4',
  })
  const target = resolveTarget(config, '/bkt1/users/a.txt', '127.0.0.1:1')

  it('when a RAM user holds only sts:AssumeRole, then it gets no OSS rights on its own account bucket', () => {
    if (!target) throw new Error('no target')
    const caller = userCaller(
      doc({ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['acs:ram::*:role/*'] }),
    )
    const result = authorizeOss(config, caller, target, get, internet)
    expect(result).toEqual({
      allowed: false,
      reason: 'neither the policy of RAM user sts-vend nor the bucket policy allows it',
    })
  })

  it('when a RAM user policy allows GetObject, then GetObject is allowed and PutObject is not', () => {
    if (!target) throw new Error('no target')
    const caller = userCaller(doc(allow('oss:GetObject', `acs:oss:*:*:bkt1/*`)))
    expect(authorizeOss(config, caller, target, get, internet).allowed).toBe(true)
    expect(authorizeOss(config, caller, target, put, internet).allowed).toBe(false)
  })
})
