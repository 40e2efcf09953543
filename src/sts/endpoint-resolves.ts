// Readiness of the STS endpoint: an unresolvable host name (e.g. a typo, `sts.invalid`) is a config fault (SEC-107).
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { hostOf } from '../net/host.ts'

/**
 * True when `endpoint` (`sts.endpoint`: host[:port]) is an IP address or its host name resolves
 * within `timeoutMs` (default 2000). Never throws; the system resolver's cache keeps it cheap.
 */
export async function endpointResolves(endpoint: string, timeoutMs = 2000): Promise<boolean> {
  const host = hostOf(endpoint)
  if (isIP(host) !== 0) return true
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([
      lookup(host).then(
        () => true,
        () => false,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}
