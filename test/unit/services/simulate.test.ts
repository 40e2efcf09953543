// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { describe, expect, it } from 'vitest'
import { renderGrant } from '../../../src/policies/index.ts'
import { createSimulate, type SimulateCheck, SimulateDenied } from '../../../src/services/simulate.ts'
import type { CredentialAsk } from '../../../src/types.ts'
import { alice, appUsers, callerOf, compile } from '../../fixtures/rules.ts'

const json: CredentialAsk = { format: 'json' }
const ctx = { clientIp: '203.0.113.9' }

const { rules } = compile([
  appUsers({ id: 'admins', when: { groups: { contains: 'admins' } }, oss: { prefix: 'admin/${sub}/' } }),
  appUsers({ conditions: { sourceIp: 'request', secureTransport: true } }),
  appUsers({
    id: 'ap-readers',
    when: { groups: { contains: 'ap' } },
    oss: {
      bucket: undefined,
      accessPoint: { name: 'ap-01', alias: 'ap-01-ossalias', accountId: '1379186349531234' },
      prefix: 'dir1/',
      access: 'ossbrowser',
    },
  }),
])
const simulate = createSimulate({ rules })

function failure(fn: () => unknown): Error & { code?: string; reason?: string } {
  try {
    fn()
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a refusal')
}

describe('simulate', () => {
  it('when a caller matches, then it answers the decision, the rendered policy and the trace, as credentials would', () => {
    const result = simulate(alice(), json, [], ctx)
    const grant = renderGrant(rules[1]!, alice(), json, ctx)
    expect(result).toEqual({
      rule: 'app-users',
      roleArn: 'acs:ram::1234567890123456:role/oss-app-user',
      sessionName: 'app-alice',
      durationSeconds: 3600,
      policy: grant.policy,
      policyLength: grant.policy.length,
      worstCaseLength: rules[1]!.worstCaseLength,
      rules: [
        {
          id: 'admins',
          matched: false,
          reason: 'when.groups contains: no element equals the expected value',
        },
        { id: 'app-users', matched: true, reason: 'matched: every condition holds' },
      ],
      checks: [],
    })
  })

  it.each<
    [
      string,
      SimulateCheck,
      { bucket: string; key: string | null; allowed: boolean; statement: number | null },
    ]
  >([
    [
      'an own object',
      { action: 'oss:PutObject', key: 'users/alice/a.jpg' },
      { bucket: 'examplebucket', key: 'users/alice/a.jpg', allowed: true, statement: 0 },
    ],
    [
      "a sibling's object",
      { action: 'oss:GetObject', key: 'users/bob/a.jpg' },
      { bucket: 'examplebucket', key: 'users/bob/a.jpg', allowed: false, statement: null },
    ],
    [
      'a dot-dot key',
      { action: 'oss:GetObject', key: 'users/alice/../bob/a' },
      { bucket: 'examplebucket', key: 'users/alice/../bob/a', allowed: true, statement: 0 },
    ],
    [
      'a delete the rule lacks',
      { action: 'oss:DeleteObject', key: 'users/alice/a.jpg' },
      { bucket: 'examplebucket', key: 'users/alice/a.jpg', allowed: false, statement: null },
    ],
    [
      'a listing of its own prefix',
      { action: 'oss:ListObjects', key: 'users/alice/' },
      { bucket: 'examplebucket', key: 'users/alice/', allowed: true, statement: 1 },
    ],
    [
      'a bucket-wide listing',
      { action: 'oss:ListObjects' },
      { bucket: 'examplebucket', key: '', allowed: false, statement: null },
    ],
    [
      'another bucket',
      { action: 'oss:GetObject', bucket: 'other', key: 'users/alice/a' },
      { bucket: 'other', key: 'users/alice/a', allowed: false, statement: null },
    ],
    [
      'plain http',
      { action: 'oss:GetObject', key: 'users/alice/a', secureTransport: false },
      { bucket: 'examplebucket', key: 'users/alice/a', allowed: false, statement: null },
    ],
    [
      'another source address',
      { action: 'oss:GetObject', key: 'users/alice/a', sourceIp: '198.51.100.1' },
      { bucket: 'examplebucket', key: 'users/alice/a', allowed: false, statement: null },
    ],
    [
      'the bound source address',
      { action: 'oss:GetObject', key: 'users/alice/a', sourceIp: '203.0.113.9' },
      { bucket: 'examplebucket', key: 'users/alice/a', allowed: true, statement: 0 },
    ],
    [
      'GetBucketInfo outside ossbrowser',
      { action: 'oss:GetBucketInfo', key: 'ignored' },
      { bucket: 'examplebucket', key: null, allowed: false, statement: null },
    ],
    [
      'a bucket-level action',
      { action: 'oss:DeleteBucket' },
      { bucket: 'examplebucket', key: null, allowed: false, statement: null },
    ],
  ])(
    'when the check is %s, then it answers allowed/statement per the session policy',
    (_what, check, expected) => {
      const [result] = simulate(alice(), json, [check], ctx).checks
      expect(result).toEqual({ action: check.action, ...expected })
    },
  )

  it('when the grant is through an access point, then checks default to its alias and its ARN decides', () => {
    const caller = callerOf({ sub: 'alice', groups: ['ap'] })
    const checks = simulate(
      caller,
      json,
      [
        { action: 'oss:GetObject', key: 'dir1/a' },
        { action: 'oss:GetBucketInfo' },
        { action: 'oss:ListMultipartUploads', key: 'dir1/' },
        { action: 'oss:GetObject', key: 'dir2/a' },
        { action: 'oss:GetObject', bucket: 'examplebucket', key: 'dir1/a' },
      ],
      ctx,
    ).checks
    expect(checks.map((c) => [c.bucket, c.allowed, c.statement])).toEqual([
      ['ap-01-ossalias', true, 0],
      ['ap-01-ossalias', true, 2],
      ['ap-01-ossalias', true, 1],
      ['ap-01-ossalias', false, null],
      ['examplebucket', false, null],
    ])
  })

  it('when the request narrows, then checks evaluate the narrowed policy', () => {
    const result = simulate(
      alice(),
      { format: 'json', prefix: 'users/alice/photos/', access: 'read' },
      [
        { action: 'oss:GetObject', key: 'users/alice/photos/a' },
        { action: 'oss:GetObject', key: 'users/alice/a' },
        { action: 'oss:PutObject', key: 'users/alice/photos/a' },
      ],
      ctx,
    )
    expect(result.checks.map((c) => c.allowed)).toEqual([true, false, false])
  })

  it('when no rule matches, then it is access_denied like credentials, carrying the trace for explain', () => {
    const err = failure(() => simulate(callerOf({ sub: 'bob', groups: [] }), json, [], ctx))
    expect(err).toBeInstanceOf(SimulateDenied)
    expect(err.code).toBe('access_denied')
    expect(err.reason).toBe('no_rule_matched')
    expect((err as SimulateDenied).rule).toBeNull()
    expect((err as SimulateDenied).rules.map((r) => r.matched)).toEqual([false, false, false])
    // The caller-visible message is the generic one.
    expect(err.message).toBe('No rule grants the requested access.')
  })

  it.each<[string, () => unknown, string, string]>([
    [
      'an unusable claim',
      () => simulate(callerOf({ sub: 'a/b', groups: ['photo-app'] }), json, [], ctx),
      'access_denied',
      'claim_unusable',
    ],
    [
      'narrowing outside the grant',
      () => simulate(alice(), { format: 'json', prefix: 'users/bob/' }, [], ctx),
      'access_denied',
      'narrowing_outside_grant',
    ],
    [
      'a wider access',
      () => simulate(alice(), { format: 'json', access: 'ossbrowser' }, [], ctx),
      'access_denied',
      'access_wider',
    ],
    [
      'a requested rule that does not match',
      () => simulate(alice(), { format: 'json', rule: 'admins' }, [], ctx),
      'access_denied',
      'requested_rule_not_matched',
    ],
    [
      'a malformed prefix',
      () => simulate(alice(), { format: 'json', prefix: 'users/alice/../x/' }, [], ctx),
      'invalid_request',
      'bad_prefix',
    ],
    [
      'a duration above the max',
      () => simulate(alice(), { format: 'json', durationSeconds: 3601 }, [], ctx),
      'invalid_request',
      'duration_above_max',
    ],
    [
      'a check without a key for an object action',
      () => simulate(alice(), json, [{ action: 'oss:GetObject' }], ctx),
      'invalid_request',
      'bad_check',
    ],
    [
      'a check with a bad action',
      () => simulate(alice(), json, [{ action: 'GetObject' }], ctx),
      'invalid_request',
      'bad_check',
    ],
    [
      'a check with a bad sourceIp',
      () => simulate(alice(), json, [{ action: 'oss:ListObjects', sourceIp: 'x' }], ctx),
      'invalid_request',
      'bad_check',
    ],
  ])(
    'when the request has %s, then simulate refuses with the same code as credentials',
    (_what, fn, code, reason) => {
      expect(failure(fn)).toMatchObject({ code, reason })
    },
  )

  it('when a claim is unusable, then the denial names the claim for the audit line, never its value', () => {
    const err = failure(() =>
      simulate(callerOf({ sub: 'a/b', groups: ['photo-app'] }), json, [], ctx),
    ) as SimulateDenied
    expect(err.claim).toBe('sub')
    expect(err.rule).toBe('app-users')
    expect(err.detail).toBe('claim_unusable: sub is outside the allowed characters')
  })

  it('when both a malformed field and a non-matching caller are present, then the 400 comes first', () => {
    expect(
      failure(() => simulate(callerOf({ sub: 'bob' }), { format: 'json', prefix: '*' }, [], ctx)).code,
    ).toBe('invalid_request')
    expect(failure(() => simulate(callerOf({ sub: 'bob' }), json, [{ action: 'nope' }], ctx)).code).toBe(
      'invalid_request',
    )
  })

  it("when a partner caller simulates, then the trace never lists the corp issuer's rules (SEC-079)", () => {
    const err = failure(() => simulate(callerOf({ sub: 'ci' }, 'partner'), json, [], ctx)) as SimulateDenied
    expect(err.rules).toEqual([])
  })
})
