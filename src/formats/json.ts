// `json`: our own clients and ali-oss (stsToken = securityToken). Exactly the fields of design §6.1 and §14.
import type { Issued } from '../types.ts'
import { formatExpiration } from './time.ts'

export interface JsonCredentials {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string
  expiration: string
  refreshAfter: string
  /** The region id (`cn-hangzhou`): the V4 signing region; ali-oss takes it as `oss-<region>`. */
  region: string
  /**
   * The endpoint host clients address the bucket under, virtual-host style (`<bucket>.<endpoint>`):
   * `oss-<region>.aliyuncs.com`, or the rule's `oss.endpoint` (a custom domain bound to the bucket,
   * used as it is, ali-oss `cname: true`). Never a path-style base.
   */
  endpoint: string
  bucket: string
  accessPoint: string | null
  prefix: string
  access: string
  rule: string
  /** Where to ask what else this token may get (GET) and why OSS refused these credentials (POST). */
  grantsUrl: string
  explainDenialUrl: string
}

/** The links of the `json` format: absolute from `server.publicUrl`, else relative paths (never from Host). */
export interface ServiceLinks {
  grantsUrl: string
  explainDenialUrl: string
}

export function serviceLinks(publicUrl: string | null): ServiceLinks {
  const base = publicUrl === null ? '' : publicUrl.replace(/\/+$/, '')
  return { grantsUrl: `${base}/v1/grants`, explainDenialUrl: `${base}/v1/explain-denial` }
}

const RELATIVE_LINKS = serviceLinks(null)

export function formatJson(
  { grant, credentials, refreshAfter }: Issued,
  links: ServiceLinks = RELATIVE_LINKS,
): JsonCredentials {
  return {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    expiration: formatExpiration(credentials.expiration),
    refreshAfter: formatExpiration(refreshAfter),
    region: grant.oss.region,
    endpoint: grant.oss.endpoint,
    bucket: grant.oss.bucket,
    accessPoint: grant.oss.accessPoint,
    prefix: grant.oss.prefix,
    access: grant.oss.access,
    rule: grant.ruleId,
    grantsUrl: links.grantsUrl,
    explainDenialUrl: links.explainDenialUrl,
  }
}
