// What the HTTP layer calls: credentials for a grant, from the cache or from exactly one AssumeRole per key.
import { createHash } from 'node:crypto'
import { UpstreamError } from '../errors.ts'
import type { AssumeRoleInput, CredentialSource, StsClient, StsCredentials } from '../types.ts'
import {
  type CredentialCache,
  type CredentialCacheKey,
  type CredentialCacheStats,
  createCredentialCache,
  type EvictionKey,
} from './credential-cache.ts'

export interface StsServiceOptions {
  client: StsClient
  /** `maxBytes`: the credential cache's share of `cache.maxMemoryMiB`, in estimated heap bytes. */
  cache: { maxEntries: number; minRemainingSeconds: number; maxBytes?: number }
  now?: () => Date
  /** Fleet mode: layers the shared cache over the local one (same interface). */
  wrapCache?: (local: CredentialCache) => CredentialCache
}

export interface StsService {
  /**
   * Credentials for `input`, cached under `key`. Throws UpstreamError (STS refused, or answered with
   * credentials that have minRemainingSeconds or less left) or UpstreamUnavailable (STS throttled, down,
   * circuit open). Throws TypeError when a load is due and `key` does not describe `input` (a programming
   * error; a hit serves what was loaded, checked, for `key`).
   */
  issue(
    key: CredentialCacheKey,
    input: AssumeRoleInput,
  ): Promise<{ credentials: StsCredentials; cache: 'hit' | 'miss'; source?: CredentialSource }>
  stats(): CredentialCacheStats
  /** Drops cached credentials whose key matches (deny list, reload); see CredentialCache.evict. */
  evict(match: (key: EvictionKey) => boolean): number
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function assertKeyDescribes(key: CredentialCacheKey, input: AssumeRoleInput): void {
  // A key that does not match its input would serve one grant's credentials for another.
  if (
    key.roleArn !== input.roleArn ||
    key.sessionName !== input.roleSessionName ||
    key.durationSeconds !== input.durationSeconds ||
    key.externalId !== (input.externalId ?? null) ||
    key.policySha256 !== sha256(input.policy)
  ) {
    throw new TypeError('the credential cache key does not describe the AssumeRole input')
  }
}

/** Composes the credential cache (design §8) with an StsClient. */
export function createStsService(options: StsServiceOptions): StsService {
  const { maxEntries, minRemainingSeconds, maxBytes } = options.cache
  const local = createCredentialCache({
    maxEntries,
    minRemainingSeconds,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(options.now ? { now: options.now } : {}),
  })
  const cache = options.wrapCache ? options.wrapCache(local) : local
  return {
    async issue(key, input) {
      // Checked where it matters, before credentials are loaded and cached under `key`: a hit serves what
      // was loaded for that key, so re-hashing the policy on every hit would only cost time.
      return cache.getOrLoad(key, async () => {
        assertKeyDescribes(key, input)
        const credentials = await options.client.assumeRole(input)
        if (!cache.isFresh(credentials)) {
          throw new UpstreamError({
            reason: `STS credentials expire within cache.minRemainingSeconds (${options.cache.minRemainingSeconds})`,
          })
        }
        return credentials
      })
    },
    stats: () => cache.stats(),
    evict: (match) => cache.evict(match),
  }
}
