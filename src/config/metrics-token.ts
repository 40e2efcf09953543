// server.metrics' bearer token, from the config or from its file: read at start by serve and by check-config.
import { readFileSync } from 'node:fs'
import { ConfigError } from './load.ts'
import type { Config } from './schema.ts'

/**
 * The bearer token `/metrics` requires: `server.metrics.bearerToken`, or the trimmed content of
 * `bearerTokenFile` (read once at start). Throws ConfigError for an unreadable, empty or short file.
 */
export function metricsToken(config: Config): string | undefined {
  const { bearerToken, bearerTokenFile } = config.server.metrics
  if (bearerTokenFile === undefined) return bearerToken
  const path = 'server.metrics.bearerTokenFile'
  let token: string
  try {
    token = readFileSync(bearerTokenFile, 'utf8').trim()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new ConfigError([{ path, message: `cannot read ${bearerTokenFile} (${code})` }])
  }
  if (token.length < 16)
    throw new ConfigError([
      { path, message: `${bearerTokenFile} must hold a token of at least 16 characters` },
    ])
  return token
}
