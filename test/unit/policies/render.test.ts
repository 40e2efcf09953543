// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { evaluatePolicy, type PolicyDocument, renderGrant, selectRule } from '../../../src/policies/index.ts'
import type { CredentialAsk, Grant } from '../../../src/types.ts'
import { alice, appUsers, callerOf, compile, compileOne, type RawRule } from '../../fixtures/rules.ts'

const ctx = { clientIp: '203.0.113.9' }
const json: CredentialAsk = { format: 'json' }

function failure(fn: () => unknown): { code?: string; reason?: string; claim?: string; message?: string } {
  try {
    fn()
  } catch (err) {
    return err as { code?: string; reason?: string }
  }
  throw new Error('expected a refusal')
}

const READ = [
  'oss:GetObject',
  'oss:GetObjectAcl',
  'oss:GetObjectVersion',
  'oss:GetObjectVersionAcl',
  'oss:RestoreObject',
  'oss:RestoreObjectVersion',
]
const WRITE = ['oss:PutObject', 'oss:PutObjectAcl', 'oss:AbortMultipartUpload', 'oss:ListParts']
const HTTPS = { Bool: { 'acs:SecureTransport': 'true' } }

describe('seed scenarios (reference/seeds)', () => {
  it('when the RAM-user seed is an actions list without conditions, then the policy is the seed policy byte for byte (ram-user-accesskey.txt)', () => {
    const rule = compileOne(
      appUsers({
        id: 'uploader',
        when: {},
        oss: { prefix: 'exampledir/', access: undefined, actions: ['oss:PutObject'] },
        conditions: { secureTransport: false },
      }),
    )
    const grant = renderGrant(rule, alice(), json, ctx)
    expect(grant.policy).toBe(
      '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"acs:oss:*:*:examplebucket/exampledir/*"}]}',
    )
    expect(grant.oss).toEqual({
      bucket: 'examplebucket',
      accessPoint: null,
      region: 'cn-hangzhou',
      endpoint: 'oss-cn-hangzhou.aliyuncs.com',
      prefix: 'exampledir/',
      access: 'custom',
    })
  })

  it('when an upload-only rule grants exampledir/, then it can upload there (multipart too) and do nothing else', () => {
    const rule = compileOne(
      appUsers({ id: 'uploader', when: {}, oss: { prefix: 'exampledir/', access: 'upload-only' } }),
    )
    const grant = renderGrant(rule, alice(), json, ctx)
    expect(JSON.parse(grant.policy)).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['oss:PutObject', 'oss:AbortMultipartUpload', 'oss:ListParts'],
          Resource: 'acs:oss:*:*:examplebucket/exampledir/*',
          Condition: HTTPS,
        },
      ],
    })
    const doc = JSON.parse(grant.policy) as PolicyDocument
    const can = (action: string, key: string) =>
      evaluatePolicy(doc, {
        action,
        resource: `acs:oss:cn-hangzhou:1234567890123456:examplebucket/${key}`,
        context: { 'acs:SecureTransport': 'true' },
      }).decision
    expect(can('oss:PutObject', 'exampledir/exampleobject.txt')).toBe('allow')
    expect(can('oss:GetObject', 'exampledir/exampleobject.txt')).toBe('implicit-deny')
    expect(can('oss:PutObject', 'otherdir/x')).toBe('implicit-deny')
  })

  it('when an ossbrowser user logs on to a preset path, then the policy grants exactly what ossbrowser 2.0 needs (ossbrowser-2-logon.txt)', () => {
    const rule = compileOne(
      appUsers({
        id: 'ossbrowser-analysts',
        when: { groups: { contains: 'analysts' } },
        sessionName: 'ob-${claim.preferred_username}',
        oss: { prefix: 'teams/${claim.department}/', access: 'ossbrowser' },
      }),
    )
    const caller = callerOf({
      sub: 'u-123',
      groups: ['analysts'],
      department: 'data-eng',
      preferred_username: 'alice',
    })
    const grant = renderGrant(rule, caller, json, ctx)
    expect(grant.policy).toBe(
      JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: [...READ, ...WRITE, 'oss:DeleteObject', 'oss:DeleteObjectVersion'],
            Resource: 'acs:oss:*:*:examplebucket/teams/data-eng/*',
            Condition: HTTPS,
          },
          {
            Effect: 'Allow',
            Action: ['oss:ListObjects', 'oss:ListMultipartUploads'],
            Resource: 'acs:oss:*:*:examplebucket',
            Condition: { StringLike: { 'oss:Prefix': ['teams/data-eng/*'] }, ...HTTPS },
          },
          {
            Effect: 'Allow',
            Action: 'oss:GetBucketInfo',
            Resource: 'acs:oss:*:*:examplebucket',
            Condition: HTTPS,
          },
        ],
      }),
    )
    expect(grant.sessionName).toBe('ob-alice')
    expect(grant.oss.access).toBe('ossbrowser')
    // The ossbrowser permission table, for the preset path oss://examplebucket/teams/data-eng/.
    const doc = JSON.parse(grant.policy) as PolicyDocument
    const bucket = 'acs:oss:cn-hangzhou:1234567890123456:examplebucket'
    const can = (action: string, resource: string, prefix?: string) =>
      evaluatePolicy(doc, {
        action,
        resource,
        context: { 'acs:SecureTransport': 'true', ...(prefix === undefined ? {} : { 'oss:Prefix': prefix }) },
      }).decision
    const inside = `${bucket}/teams/data-eng/report.csv`
    expect(can('oss:ListObjects', bucket, 'teams/data-eng/')).toBe('allow') // log on: listV2 of the preset path
    expect(can('oss:GetBucketInfo', bucket)).toBe('allow') // log on via preset path, versioning check
    expect(can('oss:ListObjects', bucket, 'teams/data-eng/sub/')).toBe('allow') // browse, download folders
    for (const action of [
      'oss:PutObject',
      'oss:GetObject',
      'oss:DeleteObject',
      'oss:ListParts',
      'oss:RestoreObject',
    ])
      expect(can(action, inside)).toBe('allow')
    expect(can('oss:ListMultipartUploads', bucket, 'teams/data-eng/')).toBe('allow') // fragments
    expect(can('oss:ListObjects', bucket, 'teams/')).toBe('implicit-deny')
    expect(can('oss:ListObjects', bucket, '')).toBe('implicit-deny')
    expect(can('oss:ListBuckets', 'acs:oss:*:1234567890123456:*')).toBe('implicit-deny')
    expect(can('oss:GetObject', `${bucket}/teams/data-engx/a`)).toBe('implicit-deny')
    expect(can('oss:DeleteBucket', bucket)).toBe('implicit-deny')
  })

  describe('access points (access-points.txt): departments 1-3, 4 and 5-10 as rules', () => {
    const ap = (name: string) => ({ name, alias: `${name}-ossalias`, accountId: '1379186349531234' })
    const base = (name: string) => `acs:oss:cn-hangzhou:1379186349531234:accesspoint/${name}`
    const rules: RawRule[] = [
      appUsers({
        id: 'dept-1-3',
        when: { department: { in: ['d1', 'd2', 'd3'] } },
        oss: { bucket: undefined, accessPoint: ap('ap-01'), prefix: 'dir1/', access: 'read' },
      }),
      // The seed's "entire bucket" cannot be granted (a rendered prefix is never empty, design §4),
      // and a prefix starts with a literal folder (design §14): department 4 gets read/write on a
      // folder of its own under d4/ in ap-02.
      appUsers({
        id: 'dept-4',
        when: { department: { equals: 'd4' } },
        oss: { bucket: undefined, accessPoint: ap('ap-02'), prefix: 'd4/${sub}/', access: 'read-write' },
      }),
      appUsers({
        id: 'dept-5-10',
        when: { department: { in: ['d5', 'd6', 'd7', 'd8', 'd9', 'd10'] } },
        oss: { bucket: undefined, accessPoint: ap('ap-03'), prefix: 'dir2/', access: 'read-write' },
        conditions: { sourceIp: ['192.168.0.0/16'], secureTransport: true },
      }),
    ]
    const { rules: compiled } = compile(rules)
    const grantFor = (department: string): Grant => {
      const caller = callerOf({ sub: 'dept-user', department })
      return renderGrant(selectRule(compiled, caller).rule, caller, json, ctx)
    }

    it('when a department 1-3 member asks, then it gets read-only on dir1/ through ap-01', () => {
      const grant = grantFor('d2')
      expect(grant.policy).toBe(
        JSON.stringify({
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: READ, Resource: `${base('ap-01')}/object/dir1/*`, Condition: HTTPS },
            {
              Effect: 'Allow',
              Action: ['oss:ListObjects', 'oss:ListObjectVersions'],
              Resource: base('ap-01'),
              Condition: { StringLike: { 'oss:Prefix': ['dir1/*'] }, ...HTTPS },
            },
          ],
        }),
      )
      expect(grant.oss).toMatchObject({
        bucket: 'ap-01-ossalias',
        accessPoint: 'ap-01',
        prefix: 'dir1/',
        access: 'read',
      })
    })

    it('when a department 4 member asks, then it gets read/write through ap-02 on its own folder', () => {
      const grant = grantFor('d4')
      expect(grant.policy).toBe(
        JSON.stringify({
          Version: '1',
          Statement: [
            {
              Effect: 'Allow',
              Action: [...READ, ...WRITE],
              Resource: `${base('ap-02')}/object/d4/dept-user/*`,
              Condition: HTTPS,
            },
            {
              Effect: 'Allow',
              Action: ['oss:ListObjects', 'oss:ListObjectVersions'],
              Resource: base('ap-02'),
              Condition: { StringLike: { 'oss:Prefix': ['d4/dept-user/*'] }, ...HTTPS },
            },
          ],
        }),
      )
    })

    it('when a department 5-10 member asks, then it gets read/write on dir2/ through ap-03 from the VPC range only', () => {
      const grant = grantFor('d7')
      const vpc = { IpAddress: { 'acs:SourceIp': ['192.168.0.0/16'] }, ...HTTPS }
      expect(grant.policy).toBe(
        JSON.stringify({
          Version: '1',
          Statement: [
            {
              Effect: 'Allow',
              Action: [...READ, ...WRITE],
              Resource: `${base('ap-03')}/object/dir2/*`,
              Condition: vpc,
            },
            {
              Effect: 'Allow',
              Action: ['oss:ListObjects', 'oss:ListObjectVersions'],
              Resource: base('ap-03'),
              Condition: { StringLike: { 'oss:Prefix': ['dir2/*'] }, ...vpc },
            },
          ],
        }),
      )
    })

    it('when a rule asks for the whole access point, then it is refused at load', () => {
      for (const prefix of ['', '/', '*', '*/'])
        expect(() =>
          compile([
            appUsers({ oss: { bucket: undefined, accessPoint: ap('ap-02'), prefix, access: 'read-write' } }),
          ]),
        ).toThrow()
    })
  })

  it('when a cross-account partner asks, then the grant carries the ExternalId and the role in the owner account (cross-account-ram-role.txt)', () => {
    const rule = compileOne(
      appUsers({
        id: 'partner-broker',
        issuer: 'partner',
        when: { repository: { in: ['partner/ingest', 'partner/reports'] } },
        roleArn: 'acs:ram::1788107170000000:role/admin-oss',
        externalId: 'partner-7f3a9c2e',
        sessionName: 'partner-${claim.repository_id}',
        oss: {
          bucket: 'partner-data',
          region: 'cn-shanghai',
          prefix: 'ingest/${claim.repository_id}/',
          access: 'read',
        },
        durationSeconds: { default: 900, max: 3600 },
      }),
    )
    const caller = callerOf(
      { sub: 'repo:partner/ingest', repository: 'partner/ingest', repository_id: 4242 },
      'partner',
    )
    const grant = renderGrant(rule, caller, json, ctx)
    expect(grant).toMatchObject({
      ruleId: 'partner-broker',
      issuerId: 'partner',
      roleArn: 'acs:ram::1788107170000000:role/admin-oss',
      externalId: 'partner-7f3a9c2e',
      sessionName: 'partner-4242',
      durationSeconds: 900,
    })
    expect(grant.policy).toBe(
      JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: READ,
            Resource: 'acs:oss:*:*:partner-data/ingest/4242/*',
            Condition: HTTPS,
          },
          {
            Effect: 'Allow',
            Action: ['oss:ListObjects', 'oss:ListObjectVersions'],
            Resource: 'acs:oss:*:*:partner-data',
            Condition: { StringLike: { 'oss:Prefix': ['ingest/4242/*'] }, ...HTTPS },
          },
        ],
      }),
    )
    expect(grant.oss).toMatchObject({ region: 'cn-shanghai', endpoint: 'oss-cn-shanghai.aliyuncs.com' })
    expect(grant.policySha256).toBe(createHash('sha256').update(grant.policy).digest('hex'))
  })
})

describe('renderGrant', () => {
  const rule = compileOne(appUsers())

  it('when the baseline caller asks, then the grant is the rule rendered for it', () => {
    const grant = renderGrant(rule, alice(), json, ctx)
    expect(grant).toMatchObject({
      ruleId: 'app-users',
      issuerId: 'corp',
      subject: 'alice',
      roleArn: 'acs:ram::1234567890123456:role/oss-app-user',
      sessionName: 'app-alice',
      externalId: null,
      durationSeconds: 3600,
    })
    expect(grant.policySha256).toMatch(/^[0-9a-f]{64}$/)
    expect(grant.policySha256).toBe(createHash('sha256').update(grant.policy).digest('hex'))
    expect(grant.policy).toBe(JSON.stringify(JSON.parse(grant.policy)))
  })

  it('when the rule overrides the endpoint, then the grant reports it', () => {
    const internal = compileOne(appUsers({ oss: { endpoint: 'oss-cn-hangzhou-internal.aliyuncs.com' } }))
    expect(renderGrant(internal, alice(), json, ctx).oss.endpoint).toBe(
      'oss-cn-hangzhou-internal.aliyuncs.com',
    )
  })

  it('when a claim value looks like JSON, then the renderer still escapes it (SEC-051, without validation)', async () => {
    const { buildPolicy, bucketLocation } = await import('../../../src/policies/policy.ts')
    const { PRESETS } = await import('../../../src/policies/actions.ts')
    const hostile = 'alice"}],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*'
    const doc = buildPolicy({
      location: bucketLocation('examplebucket'),
      prefix: `users/${hostile}/`,
      single: false,
      access: PRESETS.read,
      sourceIp: null,
      secureTransport: false,
    })
    const parsed = JSON.parse(JSON.stringify(doc)) as PolicyDocument
    expect(parsed.Statement).toHaveLength(2)
    expect(parsed.Statement[0]?.Resource).toBe(`acs:oss:*:*:examplebucket/users/${hostile}/*`)
  })

  describe('claim values (design §4)', () => {
    it.each([
      'al?ce',
      '${sub}',
      'alice","Resource":"*',
      '../bob',
      'a..b',
      'a/b',
      '%2e%2e%2fbob',
      'alice／bob',
      'ali\u200Bce',
      'alice\r\nX-Injected: 1',
      'a'.repeat(129),
    ])('when sub is %j, then it is access_denied with reason claim_unusable naming sub', (sub) => {
      const err = failure(() => renderGrant(rule, callerOf({ sub, groups: ['photo-app'] }), json, ctx))
      expect(err).toMatchObject({ code: 'access_denied', reason: 'claim_unusable', claim: 'sub' })
      expect(JSON.stringify({ ...err, message: err.message })).not.toContain(sub)
    })

    const teams = compileOne(appUsers({ oss: { prefix: 'teams/${claim.team}/' } }))
    it.each([
      [['a', 'b']],
      [{ toString: 'x' }],
      [true],
      [false],
      [null],
      [-5],
      [1e21],
      [0.1],
      [JSON.parse('9007199254740993')],
      [undefined],
    ])('when claim.team is %j, then it is access_denied (SEC-061, SEC-062)', (team) => {
      const err = failure(() => renderGrant(teams, callerOf({ team }), json, ctx))
      expect(err).toMatchObject({ code: 'access_denied', reason: 'claim_unusable', claim: 'team' })
    })

    it('when claim.team is the number 42, then the prefix is teams/42/ (SEC-062)', () => {
      expect(renderGrant(teams, callerOf({ team: 42 }), json, ctx).oss.prefix).toBe('teams/42/')
    })

    it('when users differ only by case, then their prefixes differ (SEC-063)', () => {
      const a = renderGrant(rule, callerOf({ sub: 'Alice', groups: ['photo-app'] }), json, ctx)
      const b = renderGrant(rule, callerOf({ sub: 'alice', groups: ['photo-app'] }), json, ctx)
      expect([a.oss.prefix, b.oss.prefix]).toEqual(['users/Alice/', 'users/alice/'])
    })

    it('when a 128-character sub is rendered, then the policy is within the worst case (SEC-059)', () => {
      const grant = renderGrant(rule, callerOf({ sub: 'a'.repeat(128), groups: ['photo-app'] }), json, ctx)
      expect(grant.policy.length).toBeLessThanOrEqual(rule.worstCaseLength)
    })

    it('when the rule has a stricter pattern, then values outside it are refused', () => {
      const strict = compileOne(appUsers({ pattern: '[a-z]{1,8}' }))
      expect(renderGrant(strict, alice(), json, ctx).oss.prefix).toBe('users/alice/')
      expect(
        failure(() => renderGrant(strict, callerOf({ sub: 'alice1', groups: ['photo-app'] }), json, ctx))
          .reason,
      ).toBe('claim_unusable')
    })

    it('when ${issuer} and ${rule} are used, then they render the ids', () => {
      const ids = compileOne(appUsers({ oss: { prefix: 'ids/${issuer}/${rule}/${sub}/' } }))
      expect(renderGrant(ids, alice(), json, ctx).oss.prefix).toBe('ids/corp/app-users/alice/')
    })
  })

  describe('session names (design §4, SEC-075)', () => {
    const byEmail = compileOne(appUsers({ sessionName: 'app-${claim.email}' }))
    const name = (email: unknown) =>
      renderGrant(byEmail, callerOf({ groups: ['photo-app'], email }), json, ctx).sessionName

    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16)

    it('when the value holds + and =, then they become _ and the hash of the unsanitised name follows', () => {
      expect(name('a+b=c@x.com')).toBe(`app-a_b_c@x.com-${sha('app-a+b=c@x.com')}`)
    })

    it('when a+b, a=b and a_b are rendered, then they get three different session names (issue 16 item 4)', () => {
      const names = ['a+b', 'a=b', 'a_b'].map((v) => name(v))
      expect(new Set(names).size).toBe(3)
      expect(names[2]).toBe('app-a_b')
      expect(names[0]).toBe(`app-a_b-${sha('app-a+b')}`)
    })

    it('when a valid value imitates the hashed name of another, then it is hashed too and stays distinct', () => {
      const hashed = name('a+b')
      const mimic = name(hashed.slice('app-'.length))
      expect(mimic).not.toBe(hashed)
      expect(mimic).toBe(`${hashed.slice(0, 47)}-${sha(hashed)}`)
    })

    it('when the name is longer than 64, then it is the first 47 sanitised characters, "-" and 16 hex of the sha256 of the rendered name', () => {
      const email = `${'e'.repeat(120)}@x.com`
      const rendered = `app-${email}`
      const expected = `${rendered.slice(0, 47)}-${sha(rendered)}`
      expect(name(email)).toBe(expected)
      expect(expected).toHaveLength(64)
    })

    it('when the name is one character, then it gets the hash suffix, not padding', () => {
      const bare = compileOne(appUsers({ sessionName: '${sub}' }))
      expect(renderGrant(bare, callerOf({ sub: 'a', groups: ['photo-app'] }), json, ctx).sessionName).toBe(
        `a-${sha('a')}`,
      )
    })

    it('when the literal part has characters STS refuses, then they become _ and the hash follows', () => {
      const odd = compileOne(appUsers({ sessionName: 'app ${sub}:ü' }))
      expect(renderGrant(odd, alice(), json, ctx).sessionName).toBe(`app_alice__-${sha('app alice:ü')}`)
    })
  })

  describe('ExternalId', () => {
    const templated = compileOne(appUsers({ externalId: 'tenant-${claim.tenant}' }))

    it('when the ExternalId has a variable, then it renders it', () => {
      expect(
        renderGrant(templated, callerOf({ groups: ['photo-app'], tenant: 't1' }), json, ctx).externalId,
      ).toBe('tenant-t1')
    })

    it.each([['a/b'], ['x y'], [['t']], [undefined]])(
      'when the tenant claim is %j, then it is access_denied (SEC-077)',
      (tenant) => {
        expect(
          failure(() => renderGrant(templated, callerOf({ groups: ['photo-app'], tenant }), json, ctx)).code,
        ).toBe('access_denied')
      },
    )

    it('when only a variable makes the ExternalId and its value is one character, then it is access_denied (SEC-077)', () => {
      const bare = compileOne(appUsers({ externalId: '${claim.tenant}' }))
      expect(
        failure(() => renderGrant(bare, callerOf({ groups: ['photo-app'], tenant: 'x' }), json, ctx)).code,
      ).toBe('access_denied')
      expect(renderGrant(bare, callerOf({ groups: ['photo-app'], tenant: 'xy' }), json, ctx).externalId).toBe(
        'xy',
      )
    })
  })

  describe('durations (SEC-074)', () => {
    const flexible = compileOne(appUsers({ durationSeconds: { default: 1800, max: 7200 } }))
    it.each([899, 43201, 7201, '3600', 3600.5, -1, Number.POSITIVE_INFINITY, null, true])(
      'when durationSeconds is %j, then it is invalid_request (never clamped)',
      (d) => {
        const ask = { format: 'json', durationSeconds: d } as unknown as CredentialAsk
        expect(failure(() => renderGrant(flexible, alice(), ask, ctx)).code).toBe('invalid_request')
      },
    )

    it.each([
      [undefined, 1800],
      [900, 900],
      [7200, 7200],
    ])('when durationSeconds is %j, then the grant has %i', (d, expected) => {
      const ask: CredentialAsk = d === undefined ? json : { format: 'json', durationSeconds: d }
      expect(renderGrant(flexible, alice(), ask, ctx).durationSeconds).toBe(expected)
    })
  })

  describe('narrowing (design §6.1, SEC-071)', () => {
    it.each([
      ['users/alice/../bob/', 'invalid_request'],
      ['users/alice/*', 'invalid_request'],
      ['/users/alice/x', 'invalid_request'],
      ['users/alice//x', 'invalid_request'],
      ['users/alice/%2e%2e/', 'invalid_request'],
      ['users/alice/a b', 'invalid_request'],
      ['', 'invalid_request'],
      ['users/alic', 'access_denied'],
      ['users/alicex/', 'access_denied'],
      ['users/alice', 'access_denied'],
      ['users/ALICE/', 'access_denied'],
      ['users/bob/x', 'access_denied'],
      ['users/', 'access_denied'],
    ])('when the prefix is %j, then it is %s', (prefix, code) => {
      expect(failure(() => renderGrant(rule, alice(), { format: 'json', prefix }, ctx)).code).toBe(code)
    })

    it('when the prefix is a sub-folder, then every resource and listing is under it', () => {
      const grant = renderGrant(rule, alice(), { format: 'json', prefix: 'users/alice/photos/' }, ctx)
      const doc = JSON.parse(grant.policy) as PolicyDocument
      expect(doc.Statement[0]?.Resource).toBe('acs:oss:*:*:examplebucket/users/alice/photos/*')
      expect(doc.Statement[1]?.Condition?.['StringLike']).toEqual({ 'oss:Prefix': ['users/alice/photos/*'] })
      expect(grant.oss.prefix).toBe('users/alice/photos/')
    })

    it('when the prefix is the granted prefix itself, then the grant is unchanged', () => {
      expect(renderGrant(rule, alice(), { format: 'json', prefix: 'users/alice/' }, ctx).policy).toBe(
        renderGrant(rule, alice(), json, ctx).policy,
      )
    })

    it('when the prefix is a single key, then only that key is granted, with no listing', () => {
      const grant = renderGrant(rule, alice(), { format: 'json', prefix: 'users/alice/a.jpg' }, ctx)
      const doc = JSON.parse(grant.policy) as PolicyDocument
      expect(doc.Statement).toHaveLength(1)
      expect(doc.Statement[0]?.Resource).toBe('acs:oss:*:*:examplebucket/users/alice/a.jpg')
      expect(grant.oss.prefix).toBe('users/alice/a.jpg')
    })

    it.each([
      ['read', 'read'],
      ['upload-only', 'upload-only'],
      ['read-write', 'read-write'],
    ] as const)('when access %s is asked of a read-write rule, then it is granted', (access, name) => {
      expect(renderGrant(rule, alice(), { format: 'json', access }, ctx).oss.access).toBe(name)
    })

    it.each(['read-write-delete', 'ossbrowser'] as const)(
      'when access %s is asked of a read-write rule, then it is access_denied',
      (access) => {
        expect(failure(() => renderGrant(rule, alice(), { format: 'json', access }, ctx))).toMatchObject({
          code: 'access_denied',
          reason: 'access_wider',
        })
      },
    )

    it('when a custom rule is asked for a preset inside its actions, then it is granted; outside, denied', () => {
      const custom = compileOne(
        appUsers({
          oss: {
            access: undefined,
            actions: ['oss:PutObject', 'oss:AbortMultipartUpload', 'oss:ListParts', 'oss:GetObject'],
          },
        }),
      )
      expect(renderGrant(custom, alice(), { format: 'json', access: 'upload-only' }, ctx).oss.access).toBe(
        'upload-only',
      )
      expect(failure(() => renderGrant(custom, alice(), { format: 'json', access: 'read' }, ctx)).code).toBe(
        'access_denied',
      )
    })

    it('when a listing-only rule is narrowed to a single key, then it is access_denied (nothing to grant)', () => {
      const listing = compileOne(appUsers({ oss: { access: undefined, actions: ['oss:ListObjects'] } }))
      expect(
        failure(() => renderGrant(listing, alice(), { format: 'json', prefix: 'users/alice/x' }, ctx)).reason,
      ).toBe('narrowing_grants_nothing')
    })

    it("when a narrowed prefix would make the policy longer than the rule's worst case, then it is invalid_request", () => {
      const deep = `users/alice/${Array.from({ length: 7 }, () => 'd'.repeat(100)).join('/')}/`
      expect(deep.length).toBeLessThanOrEqual(1023)
      expect(failure(() => renderGrant(rule, alice(), { format: 'json', prefix: deep }, ctx)).code).toBe(
        'invalid_request',
      )
    })
  })

  describe('conditions', () => {
    const bound = compileOne(appUsers({ conditions: { sourceIp: 'request', secureTransport: true } }))
    const ipOf = (grant: Grant) =>
      (JSON.parse(grant.policy) as PolicyDocument).Statement[0]?.Condition?.['IpAddress']

    it.each([
      ['203.0.113.9', '203.0.113.9/32'],
      ['::ffff:203.0.113.1', '203.0.113.1/32'],
      ['2001:DB8::1', '2001:db8::1/128'],
    ])(
      'when sourceIp is request and the client is %s, then every statement is bound to %s (SEC-094)',
      (clientIp, cidr) => {
        const grant = renderGrant(bound, alice(), json, { clientIp })
        for (const statement of (JSON.parse(grant.policy) as PolicyDocument).Statement)
          expect(statement.Condition?.['IpAddress']).toEqual({ 'acs:SourceIp': cidr })
        expect(ipOf(grant)).toEqual({ 'acs:SourceIp': cidr })
      },
    )

    it.each(['', 'unknown', '::ffff:999.1.1.1'])(
      'when sourceIp is request and the client address is %j, then it is access_denied',
      (clientIp) => {
        expect(failure(() => renderGrant(bound, alice(), json, { clientIp }))).toMatchObject({
          code: 'access_denied',
          reason: 'source_ip_unavailable',
        })
      },
    )

    it('when secureTransport is false and sourceIp null, then statements carry no condition but the prefix one', () => {
      const open = compileOne(appUsers({ conditions: { sourceIp: null, secureTransport: false } }))
      const doc = JSON.parse(renderGrant(open, alice(), json, ctx).policy) as PolicyDocument
      expect(doc.Statement[0]?.Condition).toBeUndefined()
      expect(doc.Statement[1]?.Condition).toEqual({ StringLike: { 'oss:Prefix': ['users/alice/*'] } })
    })
  })
})
