// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { describe, expect, it } from 'vitest'
import { matchRules, selectRule } from '../../../src/policies/index.ts'
import { cpuTimed } from '../../fixtures/cpu-time.ts'
import { alice, appUsers, callerOf, compile } from '../../fixtures/rules.ts'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

const reasonOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return (err as { reason?: string }).reason
  }
  return undefined
}

/** Whether a one-condition rule matches a caller with `claims`. */
function holds(condition: Record<string, unknown>, claims: Record<string, unknown>, claim = 'c'): boolean {
  const { rules } = compile([appUsers({ when: { [claim]: condition } })])
  return matchRules(rules, callerOf(claims)).rule !== null
}

describe('when conditions', () => {
  it.each<[string, Record<string, unknown>, unknown, boolean]>([
    ['equals a string', { equals: 'x' }, 'x', true],
    ['equals a string, case differs (SEC-063)', { equals: 'photo-app' }, 'Photo-App', false],
    ['equals true, claim true', { equals: true }, true, true],
    ['equals true, claim "true"', { equals: true }, 'true', false],
    ['equals 42, claim 42', { equals: 42 }, 42, true],
    ['equals 42, claim "42"', { equals: 42 }, '42', false],
    ['equals, claim an array holding it', { equals: 'x' }, ['x'], false],
    ['equals, claim an object', { equals: 'x' }, { x: 1 }, false],
    ['equals, claim null', { equals: 'x' }, null, false],
    ['equals, claim missing', { equals: 'x' }, undefined, false],
    ['in, a listed value', { in: ['a', 'b'] }, 'b', true],
    ['in, an unlisted value', { in: ['a', 'b'] }, 'c', false],
    ['in, mixed types', { in: ['1', 2] }, 2, true],
    ['in, claim an array', { in: ['a'] }, ['a'], false],
    ['contains, an array with it', { contains: 'photo-app' }, ['x', 'photo-app'], true],
    ['contains, an array without it', { contains: 'photo-app' }, ['x'], false],
    ['contains, a string equal to it', { contains: 'photo-app' }, 'photo-app', false],
    ['contains, a string containing it', { contains: 'app' }, 'photo-app', false],
    ['contains a number', { contains: 7 }, [7, 8], true],
    ['contains, claim missing', { contains: 'a' }, undefined, false],
    ['matches, a whole match', { matches: 'admin|ops' }, 'ops', true],
    ['matches, a partial match (SEC-066)', { matches: 'admin|ops' }, 'admin-evil', false],
    ['matches, a suffix match (SEC-066)', { matches: 'admin|ops' }, 'evil-ops', false],
    ['matches, a prefixed value (SEC-066)', { matches: 'admin|ops' }, 'xadmin', false],
    ['matches, an array with a matching element', { matches: 'admin|ops' }, ['x', 'admin'], true],
    ['matches, an array without one', { matches: 'admin|ops' }, ['admin-evil'], false],
    ['matches, a number', { matches: '\\d+' }, 42, false],
    ['matches, a value of 256 characters', { matches: 'a+' }, 'a'.repeat(256), true],
    ['exists true, present', { exists: true }, 'x', true],
    ['exists true, present as null', { exists: true }, null, true],
    ['exists true, missing', { exists: true }, undefined, false],
    ['exists false, missing', { exists: false }, undefined, true],
    ['exists false, present', { exists: false }, false, false],
    ['two operators, both hold', { exists: true, in: ['a', 'b'] }, 'a', true],
    ['two operators, one fails', { exists: true, equals: 'b' }, 'a', false],
  ])('when the condition is %s, then it holds: %s', (_what, condition, value, expected) => {
    const claims = value === undefined ? {} : { c: value }
    expect(holds(condition, claims)).toBe(expected)
  })

  it('when a path is dotted, then it reads nested objects, never a top-level claim named with the dot (SEC-065)', () => {
    expect(holds({ equals: 'nested' }, { a: { b: 'nested' }, 'a.b': 'flat' }, 'a.b')).toBe(true)
    expect(holds({ equals: 'flat' }, { a: { b: 'nested' }, 'a.b': 'flat' }, 'a.b')).toBe(false)
    expect(holds({ exists: true }, { 'a.b': 'flat' }, 'a.b')).toBe(false)
  })

  it('when a claim path meets inherited properties, then only own properties count', () => {
    expect(holds({ exists: true }, {}, 'toString')).toBe(false)
    expect(holds({ exists: true }, { a: [] }, 'a.length')).toBe(false)
  })

  it('when a claim is nested 1,000 deep, then matching is bounded and does not throw (SEC-033)', () => {
    let deep: Record<string, unknown> = { x: 'leaf' }
    for (let i = 0; i < 1000; i++) deep = { x: deep }
    expect(holds({ exists: true }, { c: deep })).toBe(true)
    expect(holds({ equals: 'leaf' }, { c: deep })).toBe(false)
  })

  it('when a matches claim is hostile to backtracking, then evaluation stays fast (SEC-067)', () => {
    const start = performance.now()
    expect(holds({ matches: '[a-z]+[a-z0-9-]*x' }, { c: `${'a'.repeat(255)}!` })).toBe(false)
    expect(performance.now() - start).toBeLessThan(500)
  })
})

describe('matches limits (issue 16 item 1)', () => {
  const decide = (condition: Record<string, unknown>, value: unknown) => {
    const { rules } = compile([
      appUsers({ id: 'restricted', when: { c: condition }, oss: { prefix: 'restricted/${sub}/' } }),
      appUsers({ id: 'everyone', when: {} }),
    ])
    return matchRules(rules, callerOf({ c: value }))
  }

  it.each<[string, Record<string, unknown>, unknown]>([
    ['a value over 256 characters', { matches: 'a+' }, 'a'.repeat(257)],
    ['an element over 256 characters', { matches: 'a+' }, ['b', 'a'.repeat(257)]],
    ['an array of 65 elements', { matches: 'a+' }, Array.from({ length: 65 }, () => 'b')],
    [
      '64 elements of 256 characters against a large pattern',
      { matches: '[a-z0-9][a-z0-9._-]{0,63}!' },
      Array.from({ length: 64 }, () => 'a'.repeat(256)),
    ],
  ])(
    'when a matches condition meets %s, then the request is denied, never passed to a later rule',
    (_what, condition, value) => {
      const { rule, reason, trace } = decide(condition, value)
      expect(rule).toBeNull()
      expect(reason).toBe('match_limit_exceeded')
      expect(trace.map((t) => t.id)).toEqual(['restricted'])
      expect(
        codeOf(() =>
          selectRule(compile([appUsers({ when: { c: condition } })]).rules, callerOf({ c: value })),
        ),
      ).toBe('access_denied')
    },
  )

  it.each<[string, Record<string, unknown>, unknown]>([
    ['a value of 256 characters', { matches: 'a+' }, 'a'.repeat(256)],
    ['an array of 64 elements', { matches: 'a+' }, [...Array.from({ length: 63 }, () => 'b'), 'a']],
    [
      'a small pattern over 64 elements of 20 characters',
      { matches: 'a+' },
      [...Array.from({ length: 63 }, () => 'b'.repeat(20)), 'a'.repeat(20)],
    ],
  ])('when a matches condition meets %s, then it is decided', (_what, condition, value) => {
    expect(decide(condition, value).rule?.id).toBe('restricted')
  })

  it("when the issue's 20 hostile groups meet its pathological pattern, then the request is denied well within a second", () => {
    const { rules } = compile([appUsers({ when: { groups: { matches: '\\w*\\w*\\w*\\w*\\w*!' } } })])
    const caller = callerOf({ groups: Array.from({ length: 20 }, () => 'a'.repeat(250)) })
    matchRules(rules, callerOf({ groups: ['warm'] }))
    const { value: decision, ms } = cpuTimed(() => matchRules(rules, caller))
    expect(decision.reason).toBe('match_limit_exceeded')
    expect(ms).toBeLessThan(500)
  })

  it('when hostile values make the engine rebuild its state at every character, then the budget stops the request well within a second', () => {
    const pattern = '(?:[ab]*a[ab]{10}){0,30}c'
    const { rules } = compile([appUsers({ when: { groups: { matches: pattern } } })])
    const random = () => Array.from({ length: 256 }, () => (Math.random() < 0.5 ? 'a' : 'b')).join('')
    matchRules(rules, callerOf({ groups: [random()] }))
    const groups = Array.from({ length: 64 }, random)
    const { value: decision, ms } = cpuTimed(() => matchRules(rules, callerOf({ groups })))
    expect(decision.reason).toBe('match_limit_exceeded')
    expect(ms).toBeLessThan(500)
  })
})

describe('selectRule', () => {
  const { rules } = compile([
    appUsers({ id: 'admins', when: { groups: { contains: 'admins' } }, oss: { prefix: 'admin/${sub}/' } }),
    appUsers(),
    appUsers({
      id: 'fallback',
      when: {},
      oss: { prefix: 'guests/${sub}/', access: 'read' },
      selectable: true,
    }),
    appUsers({ id: 'partner-rule', issuer: 'partner', when: {} }),
    appUsers({ id: 'catch-all', when: {}, oss: { prefix: 'all/${sub}/' } }),
  ])

  it('when several rules match, then the first one wins and the trace says why earlier ones did not', () => {
    const { rule, trace } = selectRule(rules, alice())
    expect(rule.id).toBe('app-users')
    expect(trace).toEqual([
      { id: 'admins', matched: false, reason: 'when.groups contains: no element equals the expected value' },
      { id: 'app-users', matched: true, reason: 'matched: every condition holds' },
    ])
  })

  it('when no condition of earlier rules holds, then the rule without conditions matches', () => {
    const { rule, trace } = selectRule(rules, callerOf({ sub: 'bob' }))
    expect(rule.id).toBe('fallback')
    expect(trace.at(-1)).toEqual({
      id: 'fallback',
      matched: true,
      reason: 'matched: the rule has no conditions',
    })
  })

  it('when a selectable rule is requested and matches, then it is chosen over an earlier match', () => {
    expect(selectRule(rules, alice(), 'fallback').rule.id).toBe('fallback')
  })

  it('when a rule the caller matches is requested but is not selectable, then it is access_denied like a non-match (issue 16 item 2)', () => {
    expect(matchRules(rules, alice()).rule?.id).toBe('app-users')
    for (const requested of ['app-users', 'catch-all']) {
      expect(codeOf(() => selectRule(rules, alice(), requested))).toBe('access_denied')
      expect(reasonOf(() => selectRule(rules, alice(), requested))).toBe('requested_rule_not_matched')
    }
    expect(matchRules(rules, alice(), 'catch-all').trace).toEqual([
      {
        id: 'catch-all',
        matched: false,
        reason: 'not selectable by name (the rule does not say selectable: true)',
      },
    ])
  })

  it.each([
    ['a rule the caller does not match', 'admins', 'requested_rule_not_matched'],
    ["another issuer's rule", 'partner-rule', 'requested_rule_not_matched'],
    ['an unknown rule', 'nope', 'requested_rule_not_matched'],
    ['__proto__', '__proto__', 'requested_rule_not_matched'],
    ['constructor', 'constructor', 'requested_rule_not_matched'],
  ])(
    'when the request names %s, then it is access_denied with no fall-through (SEC-073)',
    (_what, requested, reason) => {
      expect(codeOf(() => selectRule(rules, alice(), requested))).toBe('access_denied')
      expect(reasonOf(() => selectRule(rules, alice(), requested))).toBe(reason)
    },
  )

  it("when the caller's issuer has no matching rule, then it is access_denied and other issuers' rules never match (SEC-026)", () => {
    const onlyCorp = compile([appUsers()]).rules
    const partnerAlice = callerOf({ sub: 'alice', groups: ['photo-app'] }, 'partner')
    expect(codeOf(() => selectRule(onlyCorp, partnerAlice))).toBe('access_denied')
    expect(reasonOf(() => selectRule(onlyCorp, partnerAlice))).toBe('no_rule_matched')
    expect(matchRules(onlyCorp, partnerAlice).trace).toEqual([])
  })

  it("when a partner caller is traced, then the corp issuer's rules are not listed", () => {
    const { rule, trace } = matchRules(rules, callerOf({ sub: 'ci' }, 'partner'))
    expect(rule?.id).toBe('partner-rule')
    expect(trace.map((t) => t.id)).toEqual(['partner-rule'])
  })

  it('when a reason is written, then it never quotes the claim value', () => {
    const secret = 'sekrit-group-value'
    const { trace } = matchRules(rules, callerOf({ sub: 'x', groups: [secret] }))
    expect(JSON.stringify(trace)).not.toContain(secret)
  })
})
