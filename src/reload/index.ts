// The live part of the service: runtime config + deny list + shadow, and the reloader that swaps the runtime
// on SIGHUP or a change of the config file, after proving the new file completely.

import { dirname, resolve } from 'node:path'
import { MemoryNonceStore, type NonceStore } from '../auth/index.ts'
import { type Config, loadConfigFile } from '../config/index.ts'
import {
  createFileDenyListStore,
  type DenyEntry,
  type DenyList,
  type DenyListStore,
  NO_DENY_LIST,
  startDenyList,
} from '../denylist/index.ts'
import { createFleetDenyListStore, createRedisDenyListStore } from '../denylist/redis-store.ts'
import { createFleetNonceStore } from '../fleet/nonce-store.ts'
import type { FleetRedis } from '../fleet/redis.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { Audit } from '../services/audit.ts'
import type { IssueCredentials } from '../services/issue-credentials.ts'
import type { IssuedIndex } from '../services/issued-index.ts'
import type { ListGrants } from '../services/list-grants.ts'
import { createShadow, type ShadowDecider } from '../services/shadow.ts'
import type { EvictionKey, StsService } from '../sts/index.ts'
import { createReloadMetrics, type ReloadMetrics } from './metrics.ts'
import { buildRuntime, createRuntimeHolder, type RuntimeHolder } from './runtime.ts'

export { buildRuntime, createRuntimeHolder, type Runtime, type RuntimeHolder } from './runtime.ts'

export interface LiveOptions {
  /** The config file, when the config came from one: relative deny-list paths and reloads use it. */
  configPath?: string | undefined
  /** sha256 of the config file's text. */
  configSha256?: string | undefined
  /** `serve --shadow FILE`. */
  shadowPath?: string | undefined
}

export interface LiveConfig {
  holder: RuntimeHolder
  denyList: DenyList
  metrics: ReloadMetrics
  issueCredentials: IssueCredentials
  listGrants: ListGrants
  /** For /readyz's body. */
  info(): { generation: number; sha256: string }
  /** Everything a reload needs besides the file. */
  parts: {
    logger: Logger
    sts: StsService
    audit: Audit
    shadowPath?: string | undefined
    alibabaNonces: NonceStore
  }
  close(): void
}

/** The deny-list file, relative to the config file's directory. */
export function denyListPath(config: Config, configPath: string | undefined): string | null {
  if (!config.denylist) return null
  return resolve(configPath ? dirname(resolve(configPath)) : process.cwd(), config.denylist.file)
}

/** The fleet's Redis connection and key prefix, shared with the deny list and the issued-credential index. */
export interface FleetShared {
  redis: FleetRedis
  prefix: string
}

/**
 * Where the deny list lives: the file (`denylist.file`), and in fleet mode also the fleet's Redis (a caller
 * is denied when either denies it; the CLI writes both). Null when neither is configured.
 */
export function denyListStore(
  config: Config,
  configPath: string | undefined,
  fleet?: FleetShared,
  options: { redisDownIsEmpty?: boolean; onRedisDown?: () => void; pollMs?: number } = {},
): DenyListStore | null {
  const path = denyListPath(config, configPath)
  const file = path ? createFileDenyListStore(path) : null
  if (!fleet) return file
  const redis = createRedisDenyListStore({ ...fleet, ...(options.pollMs ? { pollMs: options.pollMs } : {}) })
  return createFleetDenyListStore(file, redis, options)
}

/** Drops the cached credentials of every caller, issuer and rule the list denies. */
export function evictDenied(sts: Pick<StsService, 'evict'>, entries: readonly DenyEntry[]): number {
  if (entries.length === 0) return 0
  return sts.evict((key: EvictionKey) =>
    entries.some((e) =>
      e.rule !== undefined
        ? key.ruleId === e.rule
        : key.issuerId === e.issuer && (e.sub === undefined || key.subject === e.sub),
    ),
  )
}

export function loadShadow(path: string, logger: Logger, metrics: ReloadMetrics): ShadowDecider {
  return createShadow(loadConfigFile(path), { logger, counter: metrics.shadow })
}

/** Builds generation 1 from a validated config. Throws ConfigError or DenyListError. */
export async function startLiveConfig(
  config: Config,
  deps: {
    logger: Logger
    sts: StsService
    audit: Audit
    metrics: Metrics
    index?: IssuedIndex
    fleet?: FleetShared | undefined
  },
  options: LiveOptions = {},
): Promise<LiveConfig> {
  const { logger, sts, audit } = deps
  const metrics = createReloadMetrics(deps.metrics.registry)
  const shadow = options.shadowPath ? loadShadow(options.shadowPath, logger, metrics) : null
  // One seen-nonce store for the process (in fleet mode, for the fleet): a reload must not forget which
  // Alibaba logins were spent.
  const alibabaNonces: NonceStore = deps.fleet ? createFleetNonceStore(deps.fleet) : new MemoryNonceStore()
  const runtime = buildRuntime(
    config,
    { generation: 1, sha256: options.configSha256 ?? '', shadow },
    { ...deps, alibabaNonces },
  )
  const holder = createRuntimeHolder(runtime)
  const store = denyListStore(config, options.configPath, deps.fleet, {
    redisDownIsEmpty: true,
    onRedisDown: () =>
      logger.warn(
        { event: 'denylist.redis_unavailable' },
        "fleet Redis not reachable at start-up: the deny list serves the file's entries until it is",
      ),
  })
  const denyList = store
    ? await startDenyList(store, {
        logger,
        onChange: (entries) => evictDenied(sts, entries),
      })
    : NO_DENY_LIST
  metrics.generation(1)
  return {
    holder,
    denyList,
    metrics,
    issueCredentials: holder.issueCredentials(denyList, { sts, audit, index: deps.index }),
    listGrants: holder.listGrants(denyList),
    info: () => ({ generation: holder.current().generation, sha256: holder.current().sha256 }),
    parts: { logger, sts, audit, shadowPath: options.shadowPath, alibabaNonces },
    close: () => denyList.close(),
  }
}
