// `credentials-uri`: what @alicloud/credentials' URI provider and credentials-go read (Code is checked by some).
import type { Issued } from '../types.ts'
import { formatExpiration } from './time.ts'

export function formatCredentialsUri({ credentials }: Issued) {
  return {
    Code: 'Success',
    AccessKeyId: credentials.accessKeyId,
    AccessKeySecret: credentials.accessKeySecret,
    SecurityToken: credentials.securityToken,
    Expiration: formatExpiration(credentials.expiration),
  }
}
