// `aliyun-cli`: the aliyun CLI's External credential mode reads a StsToken profile from a process's stdout.
import type { Issued } from '../types.ts'

export function formatAliyunCli({ credentials }: Issued) {
  return {
    mode: 'StsToken',
    access_key_id: credentials.accessKeyId,
    access_key_secret: credentials.accessKeySecret,
    sts_token: credentials.securityToken,
  }
}
