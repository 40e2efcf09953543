// parseBearer: design §6.1's strict reading of the Authorization header.
import { describe, expect, it } from 'vitest'
import { MAX_TOKEN_BYTES, parseBearer } from '../../../src/auth/index.ts'
import { InvalidToken } from '../../../src/errors.ts'

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'

function refusal(values: readonly string[] | undefined): InvalidToken {
  try {
    parseBearer(values)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidToken)
    return err as InvalidToken
  }
  throw new Error('expected parseBearer to throw')
}

describe('parseBearer', () => {
  it.each([
    ['Bearer', `Bearer ${TOKEN}`],
    ['bearer', `bearer ${TOKEN}`],
    ['BEARER', `BEARER ${TOKEN}`],
    ['BeArEr', `BeArEr ${TOKEN}`],
  ])('when the scheme is %s followed by one space and a token, then the token', (_n, value) => {
    expect(parseBearer([value])).toBe(TOKEN)
  })

  it.each([
    ['no header', undefined, 'no_authorization', false],
    ['an empty list', [], 'no_authorization', false],
    ['two values', [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`], 'duplicate_authorization', true],
    ['Basic', [`Basic ${TOKEN}`], 'not_bearer', false],
    ['a bare token', [TOKEN], 'not_bearer', false],
    ['Bearer with a tab', [`Bearer\t${TOKEN}`], 'not_bearer', false],
    ['Bearerx', [`Bearerx ${TOKEN}`], 'not_bearer', false],
    ['an empty value', [''], 'not_bearer', false],
    ['Bearer alone', ['Bearer'], 'empty_bearer', true],
    ['Bearer and a space', ['Bearer '], 'empty_bearer', true],
    ['two spaces', [`Bearer  ${TOKEN}`], 'malformed_bearer', true],
    ['a trailing space', [`Bearer ${TOKEN} `], 'malformed_bearer', true],
    ['a trailing word', [`Bearer ${TOKEN} x`], 'malformed_bearer', true],
    ['two segments', ['Bearer a.b'], 'malformed_bearer', true],
    ['four segments', ['Bearer a.b.c.d'], 'malformed_bearer', true],
    ['an empty segment', ['Bearer a..c'], 'malformed_bearer', true],
    ['a JWE (five segments)', ['Bearer a.b.c.d.e'], 'jwe_refused', true],
    ['a JWE with an empty key segment', ['Bearer a..c.d.e'], 'jwe_refused', true],
    ['padding', [`Bearer ${TOKEN}=`], 'malformed_bearer', true],
    ['standard base64 characters', ['Bearer a+b.c/d.e'], 'malformed_bearer', true],
    ['non-ASCII', ['Bearer a.bé.c'], 'malformed_bearer', true],
    ['a comma list', [`Bearer ${TOKEN}, Bearer ${TOKEN}`], 'malformed_bearer', true],
  ] as const)('when given %s, then InvalidToken', (_n, values, reason, presented) => {
    const err = refusal(values)
    expect(err.code).toBe('invalid_token')
    expect(err.reason).toBe(reason)
    expect(err.presented).toBe(presented)
  })

  it('when the token is exactly 8 KiB, then it passes; one character more, then token_too_large', () => {
    const exact = `a.b.${'c'.repeat(MAX_TOKEN_BYTES - 4)}`
    expect(exact).toHaveLength(8192)
    expect(parseBearer([`Bearer ${exact}`])).toBe(exact)
    expect(refusal([`Bearer ${exact}c`]).reason).toBe('token_too_large')
  })

  it('when the value is a megabyte of dots, then token_too_large: the size is checked before any parsing', () => {
    // A megabyte of dots would be a malformed token; token_too_large shows the size check came first.
    expect(refusal([`Bearer ${'.'.repeat(1024 * 1024)}`]).reason).toBe('token_too_large')
  })
})
