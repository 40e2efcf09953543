// The RAM request OSS authorizes for one action on one bucket/key: the resource ARN and the condition keys.
import { isListingAction, isObjectAction } from './actions.ts'
import type { EvaluationRequest } from './evaluate.ts'
import { hostCidr } from './ip.ts'

/** Where a grant points: enough to rebuild the ARNs OSS authorizes. */
export interface OssTarget {
  /** The bucket name, or the access point alias. */
  bucket: string
  /** The access point, or null for a bucket grant. */
  accessPoint: { name: string; alias: string; accountId: string } | null
  region: string
  /** The account that owns the role: the account of a bucket's ARN. */
  account: string
}

export interface OssCheck {
  action: string
  /** Default: the target's bucket (or access point alias). */
  bucket?: string
  /** The object key for object actions; the listing prefix for listing actions; ignored otherwise. */
  key?: string
  /** Omitted: no `acs:SourceIp` in the context. */
  sourceIp?: string
  /** Default true. */
  secureTransport?: boolean
}

/** The account id of a role ARN (`acs:ram::<account>:role/<name>`), or `*`. */
export function roleAccount(roleArn: string): string {
  return /^acs:ram::(\d+):role\//.exec(roleArn)?.[1] ?? '*'
}

/**
 * The evaluation request OSS makes for `check` against `target`: through the access point alias the
 * access point ARN (`…:accesspoint/A`, objects under `/object/`), any other name a bucket ARN; listing
 * actions carry `oss:Prefix`. Returns the request with the bucket and key it was built for (key null for
 * bucket-level actions).
 */
export function ossRequest(
  target: OssTarget,
  check: OssCheck,
): { request: EvaluationRequest; bucket: string; key: string | null } {
  const bucket = check.bucket ?? target.bucket
  const ap = target.accessPoint
  const viaAp = ap !== null && bucket === ap.alias
  const bucketResource = viaAp
    ? `acs:oss:${target.region}:${ap.accountId}:accesspoint/${ap.name}`
    : `acs:oss:${target.region}:${target.account}:${bucket}`
  const objectBase = viaAp ? `${bucketResource}/object/` : `${bucketResource}/`
  const context: Record<string, string> = {
    'acs:SecureTransport': check.secureTransport === false ? 'false' : 'true',
  }
  const sourceIp = check.sourceIp === undefined ? undefined : hostCidr(check.sourceIp)?.replace(/\/\d+$/, '')
  if (sourceIp !== undefined) context['acs:SourceIp'] = sourceIp
  let key: string | null = null
  let resource = bucketResource
  if (isObjectAction(check.action)) {
    key = check.key ?? ''
    resource = objectBase + key
  } else if (isListingAction(check.action)) {
    key = check.key ?? ''
    context['oss:Prefix'] = key
  }
  return { request: { action: check.action, resource, context }, bucket, key }
}
