// Packed policies (issue 22): exact round trips, small against the rule's dictionary; memoized grants read
// their Policy back unchanged.
import { describe, expect, it } from 'vitest'
import { renderGrant } from '../../../src/policies/index.ts'
import { createIssueMemo } from '../../../src/services/issue-memo.ts'
import { createPolicyPacker, unpackPolicy } from '../../../src/services/policy-pack.ts'
import type { Caller } from '../../../src/types.ts'
import { appUsers, compileOne } from '../../fixtures/rules.ts'

const rule = compileOne(appUsers())
const callerOf = (sub: string): Caller => ({
  issuerId: 'corp',
  issuer: 'https://id.example.test/',
  subject: sub,
  claims: { sub, groups: ['photo-app'] },
})
const policyOf = (sub: string) =>
  renderGrant(rule, callerOf(sub), { format: 'json' }, { clientIp: '127.0.0.1' }).policy

describe('policy packing', () => {
  it('when policies of one rule are packed, then each unpacks to the exact string, the later ones in < 80 bytes', () => {
    const packer = createPolicyPacker()
    const first = packer.pack(rule.id, policyOf('alice'))
    const policy = policyOf('bob-with-a-longer-subject')
    const second = packer.pack(rule.id, policy)
    expect(unpackPolicy(second)).toBe(policy)
    expect(unpackPolicy(first)).toBe(policyOf('alice'))
    expect(policy.length).toBeGreaterThan(500)
    expect(second.bytes.length).toBeLessThan(80)
  })

  it('when a policy holds characters outside Latin-1, then it still round-trips exactly', () => {
    const packer = createPolicyPacker()
    const policy = '{"Version":"1","Statement":[{"Resource":"acs:oss:*:*:b/用户/ünï/*"}]}'
    packer.pack('r', '{"Version":"1"}')
    expect(unpackPolicy(packer.pack('r', policy))).toBe(policy)
  })

  it('when a caller is memoized, then the grant is frozen and its Policy equals the rendered one', () => {
    const memo = createIssueMemo()
    const caller = callerOf('carol')
    const render = () => renderGrant(rule, caller, { format: 'json' }, { clientIp: '127.0.0.1' })
    const grant = memo.grant(rule, caller, { format: 'json' }, render)
    expect(memo.grant(rule, caller, { format: 'json' }, render)).toBe(grant)
    expect(Object.isFrozen(grant)).toBe(true)
    expect(grant).toMatchObject(render())
    expect(grant.policy).toBe(policyOf('carol'))
  })
})
