// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
// check-config's selectable warning (issue 16 item 2): "grants more" and "could match", decided conservatively.
import { describe, expect, it } from 'vitest'
import { devConfig } from '../../../src/commands/dev-config.ts'
import { compileRules } from '../../../src/config/index.ts'
import { couldBothMatch, grantsMore, selectableWarnings } from '../../../src/policies/overlap.ts'
import { appUsers, compile, type RawRule } from '../../fixtures/rules.ts'

const DEV = {
  host: '127.0.0.1',
  port: 0,
  issuer: 'http://127.0.0.1:1/',
  jwksUri: 'http://127.0.0.1:1/jwks',
  audience: 'sts-vend',
  stsEndpoint: '127.0.0.1:2',
}

const pair = (earlier: RawRule, later: RawRule) => {
  const [a, b] = compile([earlier, { ...later, id: 'later' }]).rules
  if (!a || !b) throw new Error('not compiled')
  return [a, b] as const
}

describe('selectableWarnings', () => {
  it('when the bundled dev config is checked, then it has no warning, and it would if app-users were selectable', () => {
    const config = devConfig(DEV)
    expect(selectableWarnings(compileRules(config))).toEqual([])
    const widened = compileRules(config).map((r) => (r.id === 'app-users' ? { ...r, selectable: true } : r))
    const warnings = selectableWarnings(widened)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(
      /^rule "app-users" is selectable and grants .* beyond the earlier rule "ossbrowser-users"/,
    )
    expect(warnings[1]).toMatch(/beyond the earlier rule "partner"/)
  })

  it('when a selectable rule is first, or grants no more than the earlier one, then there is no warning', () => {
    const first = compile([appUsers({ selectable: true }), appUsers({ id: 'second', when: {} })]).rules
    expect(selectableWarnings(first)).toEqual([])
    const narrower = compile([
      appUsers({ when: {} }),
      appUsers({ id: 'photos', selectable: true, oss: { prefix: 'users/${sub}/photos/', access: 'read' } }),
    ]).rules
    expect(selectableWarnings(narrower)).toEqual([])
  })
})

describe('grantsMore', () => {
  it.each<[string, RawRule, boolean]>([
    ['the same grant', {}, false],
    ['a sub-folder with fewer actions', { oss: { prefix: 'users/${sub}/x/', access: 'read' } }, false],
    ['more actions', { oss: { access: 'read-write-delete' } }, true],
    ['another prefix', { oss: { prefix: 'teams/${sub}/' } }, true],
    ['another variable in the same place', { oss: { prefix: 'users/${claim.team}/' } }, true],
    ['another bucket', { oss: { bucket: 'otherbucket' } }, true],
    ['${rule}, which differs per rule', { oss: { prefix: 'users/${rule}/' } }, true],
  ])('when the later rule has %s, then it grants more: %s', (_what, later, expected) => {
    const [earlier, other] = pair(appUsers(), appUsers(later))
    expect(grantsMore(other, earlier) !== null).toBe(expected)
  })
})

describe('couldBothMatch', () => {
  it.each<[string, RawRule['when'], RawRule['when'], boolean]>([
    ['no conditions', {}, {}, true],
    ['conditions on different claims', { a: { equals: 'x' } }, { b: { equals: 'y' } }, true],
    ['different equals', { a: { equals: 'x' } }, { a: { equals: 'y' } }, false],
    ['equals inside in', { a: { equals: 'x' } }, { a: { in: ['x', 'y'] } }, true],
    ['disjoint in lists', { a: { in: ['x', 'y'] } }, { a: { in: ['z'] } }, false],
    ['exists against absence', { a: { exists: true } }, { a: { exists: false } }, false],
    ['a value test against absence', { a: { contains: 'x' } }, { a: { exists: false } }, false],
    ['contains against equals', { a: { contains: 'x' } }, { a: { equals: 'x' } }, false],
    ['two contains', { a: { contains: 'x' } }, { a: { contains: 'y' } }, true],
    ['equals a value the pattern refuses', { a: { equals: 'ops' } }, { a: { matches: 'adm.*' } }, false],
    ['equals a value the pattern accepts', { a: { equals: 'admin' } }, { a: { matches: 'adm.*' } }, true],
    ['a pattern against contains', { a: { matches: 'adm.*' } }, { a: { contains: 'ops' } }, true],
  ])('when the conditions are %s, then both could match: %s', (_what, a, b, expected) => {
    const [earlier, later] = pair(appUsers({ when: a }), appUsers({ when: b }))
    expect(couldBothMatch(earlier, later)).toBe(expected)
  })

  it('when the rules belong to different issuers, then no caller matches both', () => {
    const [earlier, later] = pair(appUsers({ when: {} }), appUsers({ issuer: 'partner', when: {} }))
    expect(couldBothMatch(earlier, later)).toBe(false)
  })
})
