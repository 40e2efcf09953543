// parseCredentialRequest: a bare request is the default ask, the same as an explicit empty body.
import { describe, expect, it } from 'vitest'
import { parseCredentialRequest } from '../../../src/routes/credential-request.ts'

describe('parseCredentialRequest', () => {
  it('when there is no query and no body, then the ask is the default, as for an empty JSON body', () => {
    const bare = parseCredentialRequest('', undefined, { simulate: false })
    expect(bare).toEqual({ ask: { format: 'json' }, checks: [] })
    expect(parseCredentialRequest('', Buffer.from('{}'), { simulate: false })).toEqual(bare)
    expect(parseCredentialRequest('', Buffer.alloc(0), { simulate: false })).toEqual(bare)
  })

  it('when a query is given, then it is still read strictly', () => {
    expect(parseCredentialRequest('format=aliyun-cli', undefined, { simulate: false }).ask.format).toBe(
      'aliyun-cli',
    )
    expect(() => parseCredentialRequest('nope=1', undefined, { simulate: false })).toThrow(/unknown query/)
  })
})
