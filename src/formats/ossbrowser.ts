// `ossbrowser`: the json fields, the preset path and the authorization code the ossbrowser logon accepts.
import type { Issued, OssGrant } from '../types.ts'
import { formatJson, type ServiceLinks } from './json.ts'
import { formatExpiration } from './time.ts'

/** The UI privilege ossbrowser shows for a grant; OSS enforces the real limits. */
export function ossbrowserPrivilege(access: OssGrant['access']): 'readOnly' | 'readWrite' | 'all' {
  switch (access) {
    case 'read':
      return 'readOnly'
    case 'read-write-delete':
    case 'ossbrowser':
      return 'all'
    default:
      return 'readWrite'
  }
}

export function formatOssbrowser(issued: Issued, links?: ServiceLinks) {
  const { grant, credentials } = issued
  const presetPath = `oss://${grant.oss.bucket}/${grant.oss.prefix}`
  // ossbrowser refuses an STS code unless id, secret, stoken, privilege, expiration and osspath are all set;
  // region and eptpl keep older versions from falling back to stale settings.
  const code = {
    id: credentials.accessKeyId,
    secret: credentials.accessKeySecret,
    stoken: credentials.securityToken,
    expiration: formatExpiration(credentials.expiration),
    region: `oss-${grant.oss.region}`,
    osspath: presetPath,
    privilege: ossbrowserPrivilege(grant.oss.access),
    // A concrete https endpoint: ossbrowser addresses the bucket under it virtual-host style, as OSS requires.
    eptpl: `https://${grant.oss.endpoint}`,
  }
  return {
    ...formatJson(issued, links),
    presetPath,
    authorizationCode: Buffer.from(JSON.stringify(code), 'utf8').toString('base64'),
  }
}
