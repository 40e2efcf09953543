// `appserver`: the Alibaba mobile SDKs' AppServer contract (OSSAuthCredentialsProvider reads StatusCode first).
import type { Issued } from '../types.ts'
import { formatExpiration } from './time.ts'

export function formatAppServer({ credentials }: Issued) {
  return {
    StatusCode: 200,
    AccessKeyId: credentials.accessKeyId,
    AccessKeySecret: credentials.accessKeySecret,
    SecurityToken: credentials.securityToken,
    Expiration: formatExpiration(credentials.expiration),
  }
}

/** Errors keep the real HTTP status and carry it in StatusCode too (design §6.1). */
export function formatAppServerError(status: number, code: string, message: string) {
  return { StatusCode: status, ErrorCode: code, ErrorMessage: message }
}
