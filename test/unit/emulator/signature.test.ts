import { describe, expect, it } from 'vitest'
import type { StsCall } from '../../../src/emulator/call.ts'
import {
  acs3Signature,
  acs3StringToSign,
  parseAcs3Authorization,
  percentEncode,
  sha256Hex,
  unsignedHeaders,
  verifyAcs3Signature,
} from '../../../src/emulator/signature-acs3.ts'
import { rpcSignature, rpcStringToSign, verifyRpcSignature } from '../../../src/emulator/signature-rpc.ts'

describe('RPC HMAC-SHA1', () => {
  // The example of Alibaba's "RPC signature" documentation (ECS DescribeRegions, secret testsecret).
  const documented = new Map(
    Object.entries({
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    }),
  )

  it("when the documented example is signed, then the signature is Alibaba's published one", () => {
    const stringToSign = rpcStringToSign('GET', documented)
    expect(stringToSign).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    )
    expect(rpcSignature(stringToSign, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=')
  })

  it.each([
    ['the documented signature', true, 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=', 'testsecret'],
    ['another secret', false, 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=', 'testsecret2'],
    ['a flipped character', false, 'OLeaidS1JvxuMvnyHOwuJ+uX5qZ=', 'testsecret'],
    ['an empty signature', false, '', 'testsecret'],
  ])('when verified with %s, then ok is %s', (_, ok, signature, secret) => {
    const params = new Map([...documented, ['Signature', signature]])
    expect(verifyRpcSignature('GET', params, secret).ok).toBe(ok)
  })
})

describe('percentEncode', () => {
  it.each([
    ["a b*c~d!'()", 'a%20b%2Ac~d%21%27%28%29'],
    ['2016-02-23T12:46:24Z', '2016-02-23T12%3A46%3A24Z'],
    ['é/+=', '%C3%A9%2F%2B%3D'],
  ])('when %j is encoded, then it is %j (RFC 3986)', (input, output) => {
    expect(percentEncode(input)).toBe(output)
  })
})

describe('ACS3-HMAC-SHA256', () => {
  const headers = {
    host: '127.0.0.1:1234',
    'x-acs-action': 'AssumeRole',
    'x-acs-content-sha256': sha256Hex(''),
    'x-acs-date': '2026-01-01T00:00:00Z',
    'x-acs-signature-nonce': 'n1',
    'x-acs-version': '2015-04-01',
  }
  const signed = Object.keys(headers).sort()
  const base: StsCall = {
    method: 'POST',
    pathname: '/',
    query: [
      ['RoleSessionName', 'alice'],
      ['Policy', `{"Statement":"*!'() ~é"}`],
      ['RoleArn', 'acs:ram::1:role/r'],
    ],
    form: [],
    headers,
    body: Buffer.alloc(0),
  }
  const { stringToSign, canonicalRequest } = acs3StringToSign(base, signed)
  const auth = {
    accessKeyId: 'AK',
    signedHeaders: signed,
    signature: acs3Signature(stringToSign, 'secret'),
  }

  it('when the canonical request is built, then its query is sorted, RFC 3986 encoded and a blank line follows the headers', () => {
    const lines = canonicalRequest.split('\n')
    expect(lines[2]).toBe(
      'Policy=%7B%22Statement%22%3A%22%2A%21%27%28%29%20~%C3%A9%22%7D&RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr&RoleSessionName=alice',
    )
    expect(lines[3]).toBe('host:127.0.0.1:1234')
    expect(lines.at(-3)).toBe('')
    expect(lines.at(-1)).toBe(sha256Hex(''))
    expect(stringToSign).toBe(`ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`)
  })

  it('when the request is unchanged, then the signature verifies', () => {
    expect(verifyAcs3Signature(base, auth, 'secret').ok).toBe(true)
  })

  it.each<[string, Partial<StsCall>, string]>([
    ['the method', { method: 'GET' }, 'secret'],
    ['the path', { pathname: '/x' }, 'secret'],
    ['a query value', { query: [['RoleSessionName', 'mallory']] }, 'secret'],
    ['a signed header', { headers: { ...headers, 'x-acs-date': '2026-01-01T00:00:01Z' } }, 'secret'],
    ['the body (content hash no longer matches)', { body: Buffer.from('x') }, 'secret'],
    ['nothing but the secret', {}, 'other-secret'],
  ])('when %s changes, then the signature does not verify', (_, change, secret) => {
    expect(verifyAcs3Signature({ ...base, ...change }, auth, secret).ok).toBe(false)
  })

  it.each([
    [`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=${'a'.repeat(64)}`, true],
    [`ACS3-HMAC-SHA256 Credential=AK, SignedHeaders=host, Signature=${'a'.repeat(64)}`, true],
    [`ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host,Signature=${'a'.repeat(64)}`, false],
    ['ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=abc', false],
    ['Bearer abc', false],
    ['', false],
  ])('when the Authorization header is %j, then it parses: %s', (header, parses) => {
    expect(parseAcs3Authorization(header) !== undefined).toBe(parses)
  })

  it('when an x-acs- header or content-type is left out of SignedHeaders, then it is reported unsigned', () => {
    const call = { ...base, headers: { ...headers, 'x-acs-extra': '1', 'content-type': 'a/b', other: 'x' } }
    expect(unsignedHeaders(call, signed).sort()).toEqual(['content-type', 'x-acs-extra'])
  })
})
