import { describe, expect, it } from 'vitest'
import {
  type EvaluationRequest,
  evaluatePolicy,
  type PolicyDocument,
  type PolicyStatement,
} from '../../../src/policies/index.ts'

const B = 'acs:oss:cn-hangzhou:1234567890123456:examplebucket'
const req = (
  action: string,
  resource: string,
  context: EvaluationRequest['context'] = {},
): EvaluationRequest => ({
  action,
  resource,
  context,
})
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '1', Statement })

const allowAlice: PolicyStatement = {
  Effect: 'Allow',
  Action: 'oss:*Object',
  Resource: 'acs:oss:*:*:examplebucket/users/alice/*',
}

describe('evaluatePolicy', () => {
  it.each<[string, PolicyDocument, EvaluationRequest, string, number | null]>([
    ['an empty policy', doc(), req('oss:GetObject', `${B}/a`), 'implicit-deny', null],
    ['an action wildcard', doc(allowAlice), req('oss:GetObject', `${B}/users/alice/a`), 'allow', 0],
    [
      'an action wildcard, other action',
      doc(allowAlice),
      req('oss:ListParts', `${B}/users/alice/a`),
      'implicit-deny',
      null,
    ],
    ['action case-insensitive', doc(allowAlice), req('OSS:getobject', `${B}/users/alice/a`), 'allow', 0],
    [
      'resource case-sensitive',
      doc(allowAlice),
      req('oss:GetObject', `${B}/users/Alice/a`),
      'implicit-deny',
      null,
    ],
    ['a sibling prefix', doc(allowAlice), req('oss:GetObject', `${B}/users/alicex/a`), 'implicit-deny', null],
    ['the bare prefix', doc(allowAlice), req('oss:GetObject', `${B}/users/alice`), 'implicit-deny', null],
    [
      'an action list',
      doc({ Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: '*' }),
      req('oss:PutObject', `${B}/x`),
      'allow',
      0,
    ],
    [
      'a resource list',
      doc({ Effect: 'Allow', Action: '*', Resource: [`${B}/a`, `${B}/b`] }),
      req('oss:GetObject', `${B}/b`),
      'allow',
      0,
    ],
    [
      '? matches one character',
      doc({ Effect: 'Allow', Action: '*', Resource: `${B}/a?c` }),
      req('oss:GetObject', `${B}/abc`),
      'allow',
      0,
    ],
    [
      'explicit Deny wins over an earlier Allow',
      doc(allowAlice, { Effect: 'Deny', Action: 'oss:GetObject', Resource: '*' }),
      req('oss:GetObject', `${B}/users/alice/a`),
      'deny',
      1,
    ],
    [
      'the first matching Allow decides',
      doc({ Effect: 'Allow', Action: 'oss:PutObject', Resource: '*' }, allowAlice, {
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
      }),
      req('oss:GetObject', `${B}/users/alice/a`),
      'allow',
      1,
    ],
    [
      'a statement without Action',
      doc({ Effect: 'Allow', Resource: '*' }),
      req('oss:GetObject', `${B}/a`),
      'implicit-deny',
      null,
    ],
  ])('when %s, then %s (statement %s)', (_what, policy, request, decision, statement) => {
    expect(evaluatePolicy(policy, request)).toEqual({ decision, statement })
  })

  const listing: PolicyStatement = {
    Effect: 'Allow',
    Action: 'oss:ListObjects',
    Resource: B,
    Condition: { StringLike: { 'oss:Prefix': ['users/alice/*'] } },
  }
  it.each<[string, PolicyStatement, EvaluationRequest['context'], string]>([
    ['StringLike, a prefix under it', listing, { 'oss:Prefix': 'users/alice/photos/' }, 'allow'],
    ['StringLike, the prefix itself', listing, { 'oss:Prefix': 'users/alice/' }, 'allow'],
    ['StringLike, a parent prefix', listing, { 'oss:Prefix': 'users/' }, 'implicit-deny'],
    ['StringLike, no prefix given', listing, {}, 'implicit-deny'],
    ['StringLike, key name case-insensitive', listing, { 'OSS:PREFIX': 'users/alice/' }, 'allow'],
    ['StringLike, any of several context values', listing, { 'oss:Prefix': ['x', 'users/alice/a'] }, 'allow'],
    [
      'StringEquals, equal',
      { ...listing, Condition: { StringEquals: { 'oss:Prefix': 'a/' } } },
      { 'oss:Prefix': 'a/' },
      'allow',
    ],
    [
      'StringEquals, a wildcard is literal',
      { ...listing, Condition: { StringEquals: { 'oss:Prefix': 'a/*' } } },
      { 'oss:Prefix': 'a/b' },
      'implicit-deny',
    ],
    [
      'StringEquals, case differs',
      { ...listing, Condition: { StringEquals: { 'oss:Prefix': 'a/' } } },
      { 'oss:Prefix': 'A/' },
      'implicit-deny',
    ],
    [
      'StringNotEquals',
      { ...listing, Condition: { StringNotEquals: { 'oss:Prefix': 'a/' } } },
      { 'oss:Prefix': 'b/' },
      'allow',
    ],
    [
      'StringNotLike',
      { ...listing, Condition: { StringNotLike: { 'oss:Prefix': 'a/*' } } },
      { 'oss:Prefix': 'a/x' },
      'implicit-deny',
    ],
    [
      'IpAddress, inside',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
      { 'acs:SourceIp': '10.2.3.4' },
      'allow',
    ],
    [
      'IpAddress, a list',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': ['192.0.2.0/24', '10.0.0.0/8'] } } },
      { 'acs:SourceIp': '10.2.3.4' },
      'allow',
    ],
    [
      'IpAddress, outside',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
      { 'acs:SourceIp': '11.0.0.1' },
      'implicit-deny',
    ],
    [
      'IpAddress, IPv6 /128',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '2001:db8::1/128' } } },
      { 'acs:SourceIp': '2001:DB8:0::1' },
      'allow',
    ],
    [
      'IpAddress, IPv4-mapped client',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '203.0.113.1/32' } } },
      { 'acs:SourceIp': '::ffff:203.0.113.1' },
      'allow',
    ],
    [
      'IpAddress, garbage client',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '0.0.0.0/0' } } },
      { 'acs:SourceIp': 'x' },
      'implicit-deny',
    ],
    [
      'IpAddress, no client',
      { ...listing, Condition: { IpAddress: { 'acs:SourceIp': '0.0.0.0/0' } } },
      {},
      'implicit-deny',
    ],
    [
      'NotIpAddress, outside',
      { ...listing, Condition: { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
      { 'acs:SourceIp': '11.0.0.1' },
      'allow',
    ],
    [
      'NotIpAddress, inside',
      { ...listing, Condition: { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
      { 'acs:SourceIp': '10.0.0.1' },
      'implicit-deny',
    ],
    [
      'Bool true, https',
      { ...listing, Condition: { Bool: { 'acs:SecureTransport': 'true' } } },
      { 'acs:SecureTransport': 'true' },
      'allow',
    ],
    [
      'Bool true, http',
      { ...listing, Condition: { Bool: { 'acs:SecureTransport': 'true' } } },
      { 'acs:SecureTransport': 'false' },
      'implicit-deny',
    ],
    [
      'Bool as a JSON boolean',
      { ...listing, Condition: { Bool: { 'acs:SecureTransport': true } } },
      { 'acs:SecureTransport': 'TRUE' },
      'allow',
    ],
    [
      'two operators, both hold',
      {
        ...listing,
        Condition: { StringLike: { 'oss:Prefix': 'a/*' }, Bool: { 'acs:SecureTransport': 'true' } },
      },
      { 'oss:Prefix': 'a/', 'acs:SecureTransport': 'true' },
      'allow',
    ],
    [
      'two operators, one fails',
      {
        ...listing,
        Condition: { StringLike: { 'oss:Prefix': 'a/*' }, Bool: { 'acs:SecureTransport': 'true' } },
      },
      { 'oss:Prefix': 'a/', 'acs:SecureTransport': 'false' },
      'implicit-deny',
    ],
    [
      'an unknown operator on Allow',
      { ...listing, Condition: { NumericLessThan: { 'x:y': '1' } } },
      { 'x:y': '0' },
      'implicit-deny',
    ],
    [
      'a Deny whose condition holds',
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'false' } } },
      { 'acs:SecureTransport': 'false' },
      'deny',
    ],
    [
      'a Deny whose condition fails',
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'false' } } },
      { 'acs:SecureTransport': 'true' },
      'implicit-deny',
    ],
    [
      'a Deny with an unknown operator (fails closed)',
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Weird: { 'x:y': '1' } } },
      {},
      'deny',
    ],
    [
      'a Deny whose key is missing (fails closed)',
      {
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } },
      },
      {},
      'deny',
    ],
  ])('when the condition is %s, then %s', (_what, statement, context, decision) => {
    expect(evaluatePolicy(doc(statement), req('oss:ListObjects', B, context)).decision).toBe(decision)
  })
})
