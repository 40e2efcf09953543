// Fleet mode (issue 18): one AssumeRole budget, one sealed cache and singleflight across replicas, on Redis,
// with a fallback to the local cache and a local share of the budget while Redis is lost.
import { setTimeout as delay } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.ts'
import { UpstreamUnavailable } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { CredentialCache, CredentialCacheKey } from '../sts/credential-cache.ts'
import { createRateCap, type RateCap } from '../sts/rate-cap.ts'
import type { CredentialSource, StsCredentials } from '../types.ts'
import { createGrantLock, type GrantLock } from './lock.ts'
import { createFleetMetrics, type FleetMetrics, type FleetMode } from './metrics.ts'
import { callPriority, withCallPriority } from './priority.ts'
import { connectFleetRedis, type FleetRedis, FleetRedisError } from './redis.ts'
import { createFleetBudget } from './redis-budget.ts'
import { type CacheKey, createSealedCache, loadCacheKey, type SealedCache } from './sealed-cache.ts'

export type FleetConfig = NonNullable<Config['fleet']>

export interface FleetOptions {
  fleet: FleetConfig
  /** sts.maxCallsPerSecond: the fleet's budget; each replica's share while Redis is lost. */
  maxCallsPerSecond: number
  minRemainingSeconds: number
  logger: Logger
  registry?: Registry
  /** Tests: a connection and a key instead of fleet.redisUrl and fleet.cacheKeyFile. */
  redis?: FleetRedis
  cacheKey?: CacheKey
  /** Singleflight lock lifetime (default 5000 ms) and how long others wait on it (default lockTtlMs + 500). */
  lockTtlMs?: number
  lockWaitMs?: number
  /** How often a waiting replica looks for the entry (default 25 ms). */
  pollMs?: number
  /** How often a replica without Redis tries it again (default 1000 ms). */
  probeMs?: number
}

export interface Fleet {
  /** The STS call cap: the fleet budget in Redis, or maxCallsPerSecond / expectedReplicas locally. */
  rateCap: RateCap
  /** Puts the sealed fleet cache and cross-replica singleflight behind `local` (same interface). */
  wrapCache(local: CredentialCache): CredentialCache
  readiness: { name: string; check(): Promise<{ ready: boolean; detail?: string }> }
  mode(): FleetMode
  /** The connection, key prefix and cache key, for the fleet's deny list and issued-credential index. */
  shared: { redis: FleetRedis; prefix: string; cacheKey: CacheKey }
  close(): Promise<void>
}

type Found = { credentials: StsCredentials } | { token: string | null; refresh: boolean }

/**
 * The fleet budget while Redis is shared; after a fallback, the local share (once the last fleet window has
 * passed). Redis slow but not (yet) lost: no slot, and no local one either, which could exceed the budget.
 */
function fleetRateCap(
  state: Awaited<ReturnType<typeof trackMode>>,
  budget: ReturnType<typeof createFleetBudget>,
  localCap: RateCap,
): RateCap {
  return {
    async acquire() {
      if (state.mode() === 'shared') {
        try {
          await budget.acquire(callPriority())
          return
        } catch (err) {
          state.lost(err)
          if (state.mode() === 'shared')
            throw new UpstreamUnavailable(1, { reason: 'fleet budget: Redis did not answer in time' })
        }
      }
      await quietAfterFallback(state.fellBackAt())
      await localCap.acquire()
    },
  }
}

/** Connects to fleet.redisUrl (never failing on it) and reads fleet.cacheKeyFile (ConfigError when unusable). */
export async function createFleet(options: FleetOptions): Promise<Fleet> {
  const { fleet, logger } = options
  const cacheKey = options.cacheKey ?? loadCacheKey(fleet.cacheKeyFile)
  const redis = options.redis ?? (await connectFleetRedis({ url: fleet.redisUrl, logger }))
  const prefix = fleet.keyPrefix
  const metrics = createFleetMetrics(options.registry)
  const lockTtlMs = options.lockTtlMs ?? 5000
  const localShare = Math.max(1, Math.floor(options.maxCallsPerSecond / fleet.expectedReplicas))
  const localCap = createRateCap({ perSecond: localShare })
  const budget = createFleetBudget({
    redis,
    prefix,
    perSecond: options.maxCallsPerSecond,
    onWait: (priority, ms) => metrics.budgetWait(priority, ms),
    onGrant: (priority, used) => metrics.budgetGrant(priority, used),
  })
  const state = await trackMode({ redis, logger, metrics, localShare, probeMs: options.probeMs ?? 1000 })
  const load = fleetLoader({
    state,
    sealed: createSealedCache({
      redis,
      cacheKey,
      prefix,
      minRemainingSeconds: options.minRemainingSeconds,
      logger,
    }),
    lock: createGrantLock({ redis, prefix, ttlMs: lockTtlMs }),
    metrics,
    lockWaitMs: options.lockWaitMs ?? lockTtlMs + 500,
    pollMs: options.pollMs ?? 25,
  })

  const rateCap = fleetRateCap(state, budget, localCap)

  return {
    rateCap,
    wrapCache(local) {
      return {
        ...local,
        async getOrLoad(key, loadOne) {
          const seen = { fleet: false }
          const result = await local.getOrLoad(key, () =>
            load(key, loadOne, () => {
              seen.fleet = true
            }),
          )
          if (result.cache === 'hit') return { ...result, source: 'local' }
          const source: CredentialSource = seen.fleet ? 'fleet' : 'miss'
          return { credentials: result.credentials, cache: seen.fleet ? 'hit' : 'miss', source }
        },
      }
    },
    readiness: {
      name: 'fleet',
      check: async () =>
        state.mode() === 'starting' ? { ready: false, detail: 'fleet Redis unreachable' } : { ready: true },
    },
    mode: () => state.mode(),
    shared: { redis, prefix, cacheKey },
    close: async () => {
      state.close()
      await redis.close()
    },
  }
}

// After falling back, slots the fleet granted in the last window may still reach STS: local calls wait one
// window (1 s + the budget's 100 ms guard) so that they never add to them.
const FALLBACK_QUIET_MS = 1100

async function quietAfterFallback(fellBackAt: number): Promise<void> {
  const wait = fellBackAt + FALLBACK_QUIET_MS - Date.now()
  if (wait <= 0) return
  if (wait > 1000) {
    throw new UpstreamUnavailable(wait / 1000, {
      reason: 'fleet Redis lost: local STS budget starts in a moment',
    })
  }
  await delay(wait)
}

interface ModeState {
  mode(): FleetMode
  /** When this replica last fell back from shared to local (ms; 0 never). */
  fellBackAt(): number
  /** Rethrows anything but a FleetRedisError; on one, a shared replica falls back to local. */
  lost(err: unknown): void
  close(): void
}

/**
 * The fallback state machine: `starting` until Redis first answers a PING, then `shared`; a failed
 * command makes it `local` (log line, metric); a PING every probeMs (and on each reconnection) while not
 * shared brings it back.
 */
async function trackMode(deps: {
  redis: FleetRedis
  logger: Logger
  metrics: FleetMetrics
  localShare: number
  probeMs: number
}): Promise<ModeState> {
  const { redis, logger, metrics } = deps
  let mode: FleetMode = 'starting'
  let fellBackAt = 0
  metrics.mode(mode)
  const setMode = (next: FleetMode) => {
    if (mode === next) return
    const previous = mode
    mode = next
    metrics.mode(next)
    if (next === 'local') {
      fellBackAt = Date.now()
      logger.warn(
        { event: 'fleet.fallback', mode: next, local_calls_per_second: deps.localShare },
        'fleet Redis lost: local cache and a local share of the STS budget',
      )
    } else if (next === 'shared') {
      logger.info(
        { event: 'fleet.shared', mode: next, previous },
        'fleet Redis reachable: cache and budget shared',
      )
    }
  }
  let verifying = false
  const lost = (err: unknown) => {
    if (!(err instanceof FleetRedisError)) throw err
    if (mode !== 'shared') return
    if (!redis.isReady()) {
      setMode('local')
      return
    }
    // A slow answer is not yet a lost Redis (a busy event loop looks the same): a PING decides.
    if (verifying) return
    verifying = true
    redis
      .send(['PING'])
      .catch((failed: unknown) => {
        if (failed instanceof FleetRedisError && mode === 'shared') setMode('local')
      })
      .finally(() => {
        verifying = false
      })
  }
  const probe = async () => {
    try {
      await redis.send(['PING'])
      setMode('shared')
    } catch (err) {
      lost(err)
    }
  }
  redis.onReady(() => void probe())
  await probe()
  const timer = setInterval(() => {
    if (mode !== 'shared') void probe()
  }, deps.probeMs)
  timer.unref()
  return { mode: () => mode, fellBackAt: () => fellBackAt, lost, close: () => clearInterval(timer) }
}

/**
 * The load behind the local cache: while shared, the sealed entry, or this replica's AssumeRole under the
 * grant's lock (with refresh priority for a grant the fleet served before), stored sealed for the others;
 * otherwise (or when Redis fails on the way) `load` alone. `load` runs at most once per call.
 */
function fleetLoader(deps: Omit<FindDeps, 'hash'> & { state: ModeState }) {
  const { state, sealed, lock } = deps
  return async function fleetLoad(
    key: CredentialCacheKey,
    load: () => Promise<StsCredentials>,
    fromFleet: () => void,
  ): Promise<StsCredentials> {
    if (state.mode() !== 'shared') return load()
    const hash = sealed.hashOf(key)
    let found: Found
    try {
      found = await findOrLockEntry({ ...deps, hash })
    } catch (err) {
      state.lost(err)
      return load()
    }
    if ('credentials' in found) {
      fromFleet()
      return found.credentials
    }
    const { token } = found
    try {
      const credentials = await withCallPriority(found.refresh ? 'refresh' : 'new', load)
      await sealed.put(hash, credentials).catch(state.lost)
      return credentials
    } finally {
      if (token) await lock.release(hash, token).catch(state.lost)
    }
  }
}

interface FindDeps {
  sealed: SealedCache
  lock: GrantLock
  metrics: FleetMetrics
  hash: string
  lockWaitMs: number
  pollMs: number
}

/**
 * The sealed entry for `hash`, or this replica's turn to call STS: it holds the grant's lock (token), or
 * waited lockWaitMs for another replica's call in vain (token null: its own call). Throws FleetRedisError.
 */
async function findOrLockEntry(deps: FindDeps): Promise<Found> {
  const { sealed, lock, metrics, hash } = deps
  const first = await sealed.get(hash)
  metrics.sealed(first.credentials ? 'hit' : 'miss')
  if (first.credentials) return { credentials: first.credentials }
  const started = Date.now()
  for (let waited = false; ; waited = true) {
    const token = await lock.tryAcquire(hash)
    if (token) {
      // Another replica may have stored the entry and released its lock since the first look.
      const again = await sealed.get(hash)
      if (!again.credentials) {
        if (waited) metrics.lockWait('own_call', Date.now() - started)
        return { token, refresh: first.refresh }
      }
      await lock.release(hash, token)
      if (waited) metrics.lockWait('entry', Date.now() - started)
      return { credentials: again.credentials }
    }
    await delay(deps.pollMs)
    const polled = await sealed.get(hash)
    if (polled.credentials) {
      metrics.lockWait('entry', Date.now() - started)
      return { credentials: polled.credentials }
    }
    if (Date.now() - started > deps.lockWaitMs) {
      metrics.lockWait('own_call', Date.now() - started)
      return { token: null, refresh: first.refresh }
    }
  }
}
