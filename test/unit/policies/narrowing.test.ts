import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type AskShape, assertAskShape, sanitizeSessionName } from '../../../src/policies/index.ts'

const codeOf = (ask: AskShape): string | undefined => {
  try {
    assertAskShape(ask)
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('assertAskShape', () => {
  it.each<[string, AskShape]>([
    ['nothing', {}],
    ['a folder', { prefix: 'users/alice/photos/' }],
    ['a key', { prefix: 'users/alice/a.jpg' }],
    ['a one-segment folder', { prefix: 'x/' }],
    ['a one-segment key', { prefix: 'x' }],
    ['a key of 1023 characters', { prefix: `${'a'.repeat(100)}/`.repeat(10) + 'a'.repeat(13) }],
    ['each preset', { access: 'read' }],
    ['the shortest duration', { durationSeconds: 900 }],
    ['the longest duration', { durationSeconds: 43200 }],
    ['a rule id', { rule: 'app-users' }],
    ['a __proto__ rule id (decided later, 403)', { rule: '__proto__' }],
  ])('when the request has %s, then it passes', (_what, ask) => {
    expect(codeOf(ask)).toBeUndefined()
  })

  it.each<[string, AskShape]>([
    ['an empty prefix', { prefix: '' }],
    ['a leading slash', { prefix: '/users/alice/' }],
    ['an empty segment', { prefix: 'users//alice/' }],
    ['a lone slash', { prefix: '/' }],
    ['a wildcard', { prefix: 'users/alice/*' }],
    ['a question mark', { prefix: 'users/alice/?' }],
    ['a dot-dot segment', { prefix: 'users/alice/../bob/' }],
    ['a dot segment', { prefix: 'users/./alice/' }],
    ['a dot-dot inside a segment', { prefix: 'users/a..b/' }],
    ['percent-encoding', { prefix: 'users/alice/%2e%2e/' }],
    ['a space', { prefix: 'users/alice/a b' }],
    ['non-ASCII', { prefix: 'users/alice/é' }],
    ['a control character', { prefix: 'users/alice/a\u0000' }],
    ['a backslash', { prefix: 'users\\alice/' }],
    ['a segment of 129 characters', { prefix: `users/${'a'.repeat(129)}/` }],
    ['a prefix over 1023 characters', { prefix: `${'a'.repeat(100)}/`.repeat(10) + 'a'.repeat(14) }],
    ['a number prefix', { prefix: 5 }],
    ['an unknown access', { access: 'admin' }],
    ['a custom access', { access: 'custom' }],
    ['a duration of 899', { durationSeconds: 899 }],
    ['a duration of 43201', { durationSeconds: 43201 }],
    ['a string duration', { durationSeconds: '3600' }],
    ['a fractional duration', { durationSeconds: 3600.5 }],
    ['an infinite duration', { durationSeconds: Number.POSITIVE_INFINITY }],
    ['a null duration', { durationSeconds: null }],
    ['a boolean duration', { durationSeconds: true }],
    ['an empty rule', { rule: '' }],
    ['a non-string rule', { rule: ['app-users'] }],
  ])('when the request has %s, then it is invalid_request', (_what, ask) => {
    expect(codeOf(ask)).toBe('invalid_request')
  })
})

describe('sanitizeSessionName', () => {
  it.each([
    // Issue 16 item 4: a changed or padded name carries 16 hex of the sha256 of the rendered name.
    ['app-alice', 'app-alice'],
    ['a', 'a-'],
    ['', '-'],
    ['a b:c/d', 'a_b_c_d-'],
    ['😀', '_-'],
    ['x😀y', 'x_y-'],
    ['a'.repeat(64), 'a'.repeat(64)],
  ])(
    'when the rendered name is %j, then the session name is %j and a hash when it changed',
    (raw, expected) => {
      const suffix = raw === expected ? '' : createHash('sha256').update(raw).digest('hex').slice(0, 16)
      expect(sanitizeSessionName(raw)).toBe(`${expected}${suffix}`)
    },
  )

  it('when two long names differ only after character 47, then their session names still differ', () => {
    const a = sanitizeSessionName(`${'x'.repeat(70)}-one`)
    const b = sanitizeSessionName(`${'x'.repeat(70)}-two`)
    expect(a).toMatch(/^x{47}-[0-9a-f]{16}$/)
    expect(a).not.toBe(b)
  })
})
