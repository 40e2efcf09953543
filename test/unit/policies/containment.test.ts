import { describe, expect, it } from 'vitest'
import { containmentViolations } from '../../../src/policies/containment.ts'
import { bucketLocation, type PolicyDocument, type PolicyStatement } from '../../../src/policies/policy.ts'

const location = bucketLocation('examplebucket')
const B = 'acs:oss:*:*:examplebucket'
const P = 'users/alice/'
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '1', Statement })
const objects: PolicyStatement = { Effect: 'Allow', Action: 'oss:GetObject', Resource: `${B}/${P}*` }
const listing: PolicyStatement = {
  Effect: 'Allow',
  Action: 'oss:ListObjects',
  Resource: B,
  Condition: { StringLike: { 'oss:Prefix': [`${P}*`] } },
}

describe('containmentViolations', () => {
  it.each<[string, PolicyDocument, boolean]>([
    ['objects and a prefix-limited listing', doc(objects, listing), true],
    ['a single exact key', doc({ ...objects, Resource: `${B}/${P}a.jpg` }), true],
    [
      'GetBucketInfo alone for ossbrowser',
      doc({ Effect: 'Allow', Action: 'oss:GetBucketInfo', Resource: B }),
      true,
    ],
    ['a sibling prefix', doc({ ...objects, Resource: `${B}/users/alicex/*` }), false],
    ['the whole bucket', doc({ ...objects, Resource: `${B}/*` }), false],
    ['another bucket', doc({ ...objects, Resource: `acs:oss:*:*:other/${P}*` }), false],
    ['a wildcard inside the prefix', doc({ ...objects, Resource: `${B}/${P}*/x*` }), false],
    ['a trailing ?', doc({ ...objects, Resource: `${B}/${P}?` }), false],
    ['a wildcard action', doc({ ...objects, Action: 'oss:*' }), false],
    ['a bucket action on objects', doc({ ...objects, Action: 'oss:ListObjects' }), false],
    ['a listing without oss:Prefix', doc({ ...listing, Condition: {} }), false],
    [
      'a listing of the parent',
      doc({ ...listing, Condition: { StringLike: { 'oss:Prefix': ['users/*'] } } }),
      false,
    ],
    [
      'a listing prefix without its star',
      doc({ ...listing, Condition: { StringLike: { 'oss:Prefix': [P] } } }),
      false,
    ],
    [
      'an object action on the bucket',
      doc({ ...listing, Action: ['oss:ListObjects', 'oss:PutObject'] }),
      false,
    ],
    [
      'GetBucketInfo with another action',
      doc({ Effect: 'Allow', Action: ['oss:GetBucketInfo', 'oss:DeleteBucket'], Resource: B }),
      false,
    ],
    ['a statement without Resource', doc({ Effect: 'Allow', Action: 'oss:GetObject' }), false],
  ])('when the policy has %s, then contained is %s', (_what, policy, contained) => {
    expect(containmentViolations(policy, location, P, true).length === 0).toBe(contained)
  })

  it('when GetBucketInfo appears outside the ossbrowser preset, then it is a violation', () => {
    const policy = doc({ Effect: 'Allow', Action: 'oss:GetBucketInfo', Resource: B })
    expect(containmentViolations(policy, location, P, false)).not.toEqual([])
  })

  it('when the granted prefix itself holds a wildcard, then it is a violation', () => {
    expect(containmentViolations(doc(objects), location, 'users/*/', true)).not.toEqual([])
  })
})
