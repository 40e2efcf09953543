// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { describe, expect, it } from 'vitest'
import { compilePattern, type Pattern } from '../../../src/policies/regex.ts'
import { isSafeValue, toTemplateValue } from '../../../src/policies/values.ts'

describe('toTemplateValue', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'Alice'],
    ['a+b@x.com', 'a+b@x.com'],
    ['x=1', 'x=1'],
    ['a.b', 'a.b'],
    ['a'.repeat(128), 'a'.repeat(128)],
    [42, '42'],
    [0, '0'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  ])('when the value is %j, then it becomes %j', (raw, text) => {
    expect(toTemplateValue(raw, null)).toEqual({ ok: true, value: text })
  })

  it.each([
    // SEC-049, SEC-050
    'al?ce',
    'a[b]',
    'a{1,3}',
    'a^b',
    '${sub}',
    '${acs:SourceIp}',
    '{{identity.entity.id}}',
    '$',
    // SEC-051
    'alice","Resource":"*',
    // SEC-053
    '../bob',
    'alice/../bob',
    '..',
    '.',
    'a/b',
    '/',
    'alice/',
    'a..b',
    'alice..',
    // SEC-054
    '%2e%2e%2fbob',
    'alice%2F..',
    '%00',
    // SEC-055, SEC-057, SEC-058
    'alice／bob',
    'alice∕bob',
    'аlice',
    'ali\u200Bce',
    '\u202Eecila',
    '\uFEFFalice',
    'alice\u00A0',
    'alice\u0000',
    'alice\n',
    'alice\r\nX-Injected: 1',
    '\t',
    // SEC-059
    'a'.repeat(129),
    'a'.repeat(100_000),
    '',
    '-alice',
    '_alice',
    'a*',
    'a\\b',
    "a'b",
    'a b',
  ])('when the string is %j, then it is refused', (raw) => {
    expect(toTemplateValue(raw, null).ok).toBe(false)
  })

  it.each([
    // SEC-061, SEC-062
    [['a', 'b']],
    [{ toString: 'x' }],
    [true],
    [false],
    [null],
    [undefined],
    [-5],
    [1e21],
    [0.1],
    [JSON.parse('9007199254740993')],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
  ])('when the claim is %j, then it is refused', (raw) => {
    expect(toTemplateValue(raw, null).ok).toBe(false)
  })

  const compileAnchored = (source: string): Pattern => {
    const compiled = compilePattern(source)
    if ('error' in compiled) throw new Error(compiled.error)
    return compiled.pattern
  }

  it('when a rule pattern is stricter, then a value must pass both it and the default rule', () => {
    const pattern = compileAnchored('[a-z0-9][a-z0-9._-]{0,63}')
    expect(toTemplateValue('alice', pattern)).toEqual({ ok: true, value: 'alice' })
    expect(toTemplateValue('Alice', pattern).ok).toBe(false)
    const loose = compileAnchored('.*')
    expect(toTemplateValue('a/b', loose).ok).toBe(false)
    expect(toTemplateValue('a..b', loose).ok).toBe(false)
  })

  it('when a 100,000-character value is checked, then it is refused in constant time', () => {
    const huge = `${'a'.repeat(100_000)}!`
    const start = performance.now()
    for (let i = 0; i < 1000; i++) isSafeValue(huge)
    expect(performance.now() - start).toBeLessThan(500)
  })
})
