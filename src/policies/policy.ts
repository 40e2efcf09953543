// Session policy documents: the RAM policy types, and building one from a location, a prefix and an access spec.
import { type AccessSpec, BUCKET_INFO_ACTION } from './actions.ts'

export type ConditionValue = string | boolean | readonly (string | boolean)[]

/** A RAM policy statement. Action/Resource take a string or a list; Condition is operator → key → value(s). */
export interface PolicyStatement {
  Effect: 'Allow' | 'Deny'
  Action?: string | readonly string[]
  Resource?: string | readonly string[]
  Condition?: Record<string, Record<string, ConditionValue>>
  Principal?: unknown
  Sid?: string
}

export interface PolicyDocument {
  Version: string
  Statement: readonly PolicyStatement[]
}

/** Where a grant points: a bucket, or an access point (`acs:oss:R:U:accesspoint/A`). */
export interface OssLocation {
  /** Resource of an object key: `acs:oss:*:*:B/` or `acs:oss:R:U:accesspoint/A/object/`, then the key. */
  readonly objectBase: string
  /** The bucket-level resource: `acs:oss:*:*:B` or `acs:oss:R:U:accesspoint/A`. */
  readonly bucketResource: string
}

/** The location of a bucket (design §5): any region, any account, the bucket by name. */
export function bucketLocation(bucket: string): OssLocation {
  return { objectBase: `acs:oss:*:*:${bucket}/`, bucketResource: `acs:oss:*:*:${bucket}` }
}

/** The location of an access point in account `accountId`, region `region`. */
export function accessPointLocation(region: string, accountId: string, name: string): OssLocation {
  const bucketResource = `acs:oss:${region}:${accountId}:accesspoint/${name}`
  return { objectBase: `${bucketResource}/object/`, bucketResource }
}

export interface PolicySpec {
  location: OssLocation
  /** The (possibly narrowed) prefix ending in `/`, or a single object key when `single`. */
  prefix: string
  /** A single object key: granted exactly, no `*`, no listing. */
  single: boolean
  access: AccessSpec
  /** `acs:SourceIp` condition value(s), or null for none. */
  sourceIp: string | readonly string[] | null
  secureTransport: boolean
}

// One action or one resource is written as a string (as in Alibaba's examples); several as a list.
const one = (items: readonly string[]): string | readonly string[] =>
  items.length === 1 ? (items[0] ?? '') : items

/**
 * Builds the session policy. Object actions go on the object resource only; listing actions on the
 * bucket resource with `StringLike oss:Prefix ["P*"]`; GetBucketInfo (ossbrowser) on the bucket
 * resource alone. Every Allow statement carries the SourceIp and SecureTransport conditions.
 * Built as an object and serialised by JSON.stringify, so no value can break out of its string.
 */
export function buildPolicy(spec: PolicySpec): PolicyDocument {
  const extra: Record<string, Record<string, ConditionValue>> = {}
  if (spec.sourceIp !== null) extra['IpAddress'] = { 'acs:SourceIp': spec.sourceIp }
  if (spec.secureTransport) extra['Bool'] = { 'acs:SecureTransport': 'true' }
  const withConditions = (
    statement: PolicyStatement,
    own?: Record<string, Record<string, ConditionValue>>,
  ) => {
    const condition = { ...own, ...extra }
    return Object.keys(condition).length > 0 ? { ...statement, Condition: condition } : statement
  }
  const statements: PolicyStatement[] = []
  const { location, prefix, access } = spec
  if (access.object.length > 0) {
    const resource = location.objectBase + prefix + (spec.single ? '' : '*')
    statements.push(withConditions({ Effect: 'Allow', Action: one(access.object), Resource: resource }))
  }
  if (!spec.single && access.listing.length > 0) {
    statements.push(
      withConditions(
        { Effect: 'Allow', Action: one(access.listing), Resource: location.bucketResource },
        { StringLike: { 'oss:Prefix': [`${prefix}*`] } },
      ),
    )
  }
  if (!spec.single && access.bucketInfo) {
    statements.push(
      withConditions({ Effect: 'Allow', Action: BUCKET_INFO_ACTION, Resource: location.bucketResource }),
    )
  }
  return { Version: '1', Statement: statements }
}
