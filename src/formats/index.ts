// One function per output format (design §6): Issued → body.
import type { Format, Issued } from '../types.ts'
import { formatAliyunCli } from './aliyun-cli.ts'
import { formatAppServer } from './appserver.ts'
import { formatCredentialsUri } from './credentials-uri.ts'
import { formatJson } from './json.ts'
import { formatOssbrowser } from './ossbrowser.ts'

export { formatAppServerError } from './appserver.ts'
export { ossbrowserPrivilege } from './ossbrowser.ts'
export { formatExpiration } from './time.ts'

const FORMATTERS: Record<Format, (issued: Issued) => object> = {
  json: formatJson,
  appserver: formatAppServer,
  'credentials-uri': formatCredentialsUri,
  'aliyun-cli': formatAliyunCli,
  ossbrowser: formatOssbrowser,
}

export function formatIssued(format: Format, issued: Issued): object {
  return FORMATTERS[format](issued)
}
