// decodeUnverified and the duplicate-member scan: what is refused before any key is looked up.
import { describe, expect, it } from 'vitest'
import { decodeUnverified, hasDuplicateMemberNames } from '../../../src/auth/unverified-token.ts'
import { InvalidToken } from '../../../src/errors.ts'
import { b64u, raw } from '../../fixtures/forge.ts'

describe('hasDuplicateMemberNames', () => {
  it.each([
    ['a repeated name', '{"a":1,"a":2}', true],
    ['a repeated name spelled with an escape', '{"a":1,"\\u0061":2}', true],
    ['a repeat in a nested object', '{"x":{"b":1,"c":{"d":1,"d":1}}}', true],
    ['a repeat in an object inside an array', '{"x":[1,{"k":1,"k":2}]}', true],
    ['a repeat after a nested object', '{"a":{"b":1},"a":2}', true],
    ['whitespace around names', '{ "a" : 1 ,\n "a" : 2 }', true],
    ['distinct names', '{"a":1,"b":2}', false],
    ['one name in sibling objects', '[{"a":1},{"a":1}]', false],
    ['one name at two depths', '{"a":{"a":{"a":1}}}', false],
    ['a value equal to a name', '{"a":"a","b":"a"}', false],
    ['names inside string values', '{"x":"\\"a\\":1,\\"a\\":2","y":"{\\"a\\""}', false],
    ['an array of strings', '{"aud":["a","a"]}', false],
    ['an empty object', '{}', false],
  ])('when the JSON has %s, then %s', (_n, text, expected) => {
    expect(() => JSON.parse(text)).not.toThrow()
    expect(hasDuplicateMemberNames(text)).toBe(expected)
  })

  it('when objects nest 100,000 deep, then it answers without overflowing the stack', () => {
    const depth = 100_000
    const text = `${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}`
    expect(hasDuplicateMemberNames(text)).toBe(false)
  })
})

describe('decodeUnverified', () => {
  const header = { alg: 'RS256', kid: 'rs1' }
  const payload = { iss: 'https://id.example.test/', sub: 'alice' }

  function reasonOf(token: string): string | undefined {
    try {
      decodeUnverified(token)
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidToken)
      return (err as InvalidToken).reason
    }
    return undefined
  }

  it('when header and payload are JSON objects, then both are returned as parsed', () => {
    expect(decodeUnverified(raw(header, payload, 'c2ln'))).toEqual({ header, payload })
  })

  it.each([
    ['a header that is not JSON', `${b64u('nope')}.${b64u(payload)}.c2ln`, 'header_not_json'],
    ['a header that is an array', raw(['RS256'], payload, 'c2ln'), 'header_not_object'],
    ['a payload that is a string', raw(header, '"alice"', 'c2ln'), 'payload_not_object'],
    ['a payload with a BOM', raw(header, `\ufeff${JSON.stringify(payload)}`, 'c2ln'), 'payload_not_json'],
    [
      'a payload with invalid UTF-8',
      raw(header, new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), 'c2ln'),
      'payload_not_json',
    ],
    [
      'a repeated header member',
      raw('{"alg":"RS256","alg":"none"}', payload, 'c2ln'),
      'header_duplicate_member',
    ],
    ['a repeated claim', raw(header, '{"sub":"alice","sub":"admin"}', 'c2ln'), 'payload_duplicate_member'],
    ['a jwk header', raw({ ...header, jwk: { kty: 'EC' } }, payload, 'c2ln'), 'header_jwk_refused'],
    ['a jku header', raw({ ...header, jku: 'https://evil.example/' }, payload, 'c2ln'), 'header_jku_refused'],
    [
      'an x5u header',
      raw({ ...header, x5u: 'https://evil.example/' }, payload, 'c2ln'),
      'header_x5u_refused',
    ],
    ['an x5c header', raw({ ...header, x5c: ['MIIB'] }, payload, 'c2ln'), 'header_x5c_refused'],
    ['a signature with stray trailing bits', raw(header, payload, 'AB'), 'non_canonical_base64url'],
    ['a segment of impossible length', raw(header, payload, 'c2lnb'), 'non_canonical_base64url'],
  ])('when the token has %s, then InvalidToken %s', (_n, token, reason) => {
    expect(reasonOf(token)).toBe(reason)
  })
})
