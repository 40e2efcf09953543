import { describe, expect, it } from 'vitest'
import { globMatch } from '../../../src/policies/glob.ts'
import { catastrophicRegexReason, compileAnchored } from '../../../src/policies/regex.ts'

describe('catastrophicRegexReason', () => {
  it.each([
    '(a+)+$',
    '(a*)*',
    '(a|aa)+',
    '(a|a)*',
    '((a|b)c)*',
    '(?:x+y)+',
    '(a{1,5}){2,}',
    '([a-z]+)*',
    '(.*a){3,}',
    '(a)\\1',
    '(?<n>a)\\k<n>',
    '(a',
    'a)',
  ])('when the pattern is %s, then it is refused', (source) => {
    expect(catastrophicRegexReason(source)).not.toBeNull()
  })

  it.each([
    'admin|ops',
    '[a-z][a-z0-9-]{1,30}',
    '[a-z0-9][a-z0-9._-]{0,63}',
    '(admin|ops)',
    '(ab)+',
    '(a+)?',
    '(?:abc){2}',
    '[(+*]+',
    '\\(a+\\)+',
    'photo-app',
    '.*',
  ])('when the pattern is %s, then it is accepted', (source) => {
    expect(catastrophicRegexReason(source)).toBeNull()
  })

  it('when a pattern has a top-level alternation, then it is anchored as a whole (SEC-066)', () => {
    const re = compileAnchored('admin|ops')
    expect(['admin', 'ops'].map((s) => re.test(s))).toEqual([true, true])
    expect(['admin-evil', 'evil-ops', 'xadmin'].map((s) => re.test(s))).toEqual([false, false, false])
  })
})

describe('globMatch', () => {
  it.each([
    ['acs:oss:*:*:b/users/alice/*', 'acs:oss:cn-hangzhou:1:b/users/alice/a/b.jpg', true],
    ['acs:oss:*:*:b/users/alice/*', 'acs:oss:cn-hangzhou:1:b/users/alice', false],
    ['acs:oss:*:*:b/users/alice/*', 'acs:oss:cn-hangzhou:1:b/users/alicex/a', false],
    ['users/alice/*', 'users/alice/', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('when %j is matched against %j, then it answers %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected)
  })

  it('when asked to ignore case, then letters compare case-insensitively', () => {
    expect(globMatch('oss:get*', 'oss:GetObject', true)).toBe(true)
    expect(globMatch('oss:get*', 'oss:GetObject')).toBe(false)
  })

  it('when the pattern has many stars and the text is long, then it still answers quickly', () => {
    const start = performance.now()
    expect(globMatch('*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false)
    expect(performance.now() - start).toBeLessThan(200)
  })
})
