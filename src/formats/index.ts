// One function per output format (design §6): Issued → body.
import type { Format, Issued } from '../types.ts'
import { formatAliyunCli } from './aliyun-cli.ts'
import { formatAppServer } from './appserver.ts'
import { formatCredentialsUri } from './credentials-uri.ts'
import { formatJson, type ServiceLinks } from './json.ts'
import { formatOssbrowser } from './ossbrowser.ts'

export { formatAppServerError } from './appserver.ts'
export { type ServiceLinks, serviceLinks } from './json.ts'
export { ossbrowserPrivilege } from './ossbrowser.ts'
export { formatExpiration } from './time.ts'

const FORMATTERS: Record<Format, (issued: Issued, links: ServiceLinks) => object> = {
  json: formatJson,
  appserver: formatAppServer,
  'credentials-uri': formatCredentialsUri,
  'aliyun-cli': formatAliyunCli,
  ossbrowser: formatOssbrowser,
}

/** `links` go into the json and ossbrowser bodies (grantsUrl, explainDenialUrl). */
export function formatIssued(format: Format, issued: Issued, links: ServiceLinks): object {
  return FORMATTERS[format](issued, links)
}
