// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { describe, expect, it } from 'vitest'
import { renderGrant } from '../../../src/policies/index.ts'
import { compareGrants, describeCapabilities } from '../../../src/services/grant-diff.ts'
import { alice, appUsers, compileOne } from '../../fixtures/rules.ts'

const grant = (overrides: Record<string, unknown>) =>
  renderGrant(compileOne(appUsers(overrides)), alice(), { format: 'json' }, { clientIp: '10.0.0.1' })

describe('compareGrants', () => {
  it('when the prefix widens, then the wider scope is gained and nothing is lost (the old scope is covered)', () => {
    const change = compareGrants(grant({}), grant({ oss: { prefix: 'users/' } }))
    expect(change).toMatchObject({ outcome: 'widened', widens: true, lost: [] })
    expect(describeCapabilities('+', change.gained)).toEqual([
      expect.stringMatching(/^\+oss:GetObject,.* × examplebucket\/users\/\*$/),
      expect.stringMatching(/^\+oss:ListObjects.* × examplebucket \(list users\/\*\)$/),
    ])
  })

  it('when the access narrows, then only the dropped actions are lost', () => {
    const change = compareGrants(grant({}), grant({ oss: { access: 'read' } }))
    expect(change.outcome).toBe('narrowed')
    expect(change.widens).toBe(false)
    expect(change.lost.map((c) => c.action)).toContain('oss:PutObject')
    expect(change.lost.map((c) => c.action)).not.toContain('oss:GetObject')
  })

  it('when a condition is dropped, then that is a widening of the same scope', () => {
    const change = compareGrants(
      grant({ conditions: { sourceIp: ['10.0.0.0/8'], secureTransport: true } }),
      grant({}),
    )
    expect(change.widens).toBe(true)
    // Same actions on the same scope, with fewer conditions: gained, and the text names the scope.
    expect(change.gained.map((c) => c.scope)).toContain('examplebucket/users/alice/*')
    expect(change.gained.every((c) => !c.conditions.some((x) => x.includes('SourceIp')))).toBe(true)
  })

  it('when the role changes or the duration grows, then it widens even with the same policy', () => {
    const other = compareGrants(grant({}), grant({ roleArn: 'acs:ram::1234567890123456:role/other' }))
    expect(other).toMatchObject({ outcome: 'changed', widens: true })
    const longer = compareGrants(grant({}), grant({ durationSeconds: { default: 7200, max: 7200 } }))
    expect(longer).toMatchObject({ outcome: 'changed', widens: true })
    const shorter = compareGrants(grant({}), grant({ durationSeconds: { default: 900, max: 900 } }))
    expect(shorter).toMatchObject({ outcome: 'changed', widens: false })
  })

  it('when one side denies, then it is allowed (a widening) or denied', () => {
    expect(compareGrants(null, grant({})).outcome).toBe('allowed')
    expect(compareGrants(null, grant({})).widens).toBe(true)
    expect(compareGrants(grant({}), null)).toMatchObject({ outcome: 'denied', widens: false })
    expect(compareGrants(grant({}), grant({}))).toMatchObject({ outcome: 'same', widens: false })
  })
})
