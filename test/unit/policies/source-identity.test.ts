import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sourceIdentityFor } from '../../../src/policies/source-identity.ts'

const FORM = /^[\w+=,.@-]{2,64}$/

describe('sourceIdentityFor', () => {
  it.each([
    ['alice', 'alice'],
    ['alice@example.com', 'alice@example.com'],
    ['a'.repeat(64), 'a'.repeat(64)],
  ])('when the subject is %j, then it is sent unchanged', (subject, expected) => {
    expect(sourceIdentityFor(subject)).toBe(expected)
  })

  it.each([
    ['a', /^a=[0-9a-f]{16}$/],
    ['auth0|123', /^auth0_123=[0-9a-f]{16}$/],
    ['a=b', /^a_b=[0-9a-f]{16}$/],
    ['x'.repeat(65), new RegExp(`^${'x'.repeat(47)}=[0-9a-f]{16}$`)],
    ['用户', /^__=[0-9a-f]{16}$/],
  ])('when the subject is %j, then it is sanitised with a hash suffix', (subject, form) => {
    expect(sourceIdentityFor(subject)).toMatch(form)
  })

  it('when subjects differ, then their SourceIdentities differ and each has the STS form', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 200 }),
        (a, b) => {
          const [x, y] = [sourceIdentityFor(a), sourceIdentityFor(b)]
          expect(x).toMatch(FORM)
          expect(x === y).toBe(a === b)
        },
      ),
    )
  })

  it('when a plain subject looks like a changed form without "=", then they still differ', () => {
    const changed = sourceIdentityFor('auth0|123')
    expect(sourceIdentityFor(changed.replace('=', '-'))).not.toBe(changed)
  })
})
