// Reload: read the file, prove it completely (schema, templates, worst-case sizes, settings that need a
// restart, every issuer's keys reachable), then one swap. Anything wrong keeps the last good config serving.
import { type Config, ConfigError, loadConfig, readConfigFile } from '../config/index.ts'
import type { Logger } from '../logger.ts'
import { selectableWarnings } from '../policies/index.ts'
import type { LiveConfig } from './index.ts'
import { loadShadow } from './index.ts'
import { restartOnlyChanges, retiredByReload } from './live-settings.ts'
import { buildRuntime, type Runtime } from './runtime.ts'
import { sha256Hex, watchFile } from './watch.ts'

export type ReloadTrigger = 'SIGHUP' | 'file'

export interface ReloadResult {
  ok: boolean
  generation: number
  problems: string[]
}

const ISSUER_PROOF_TIMEOUT_MS = 10_000

/** Fetches every issuer's keys through the new runtime's verifier; the problems, or none. */
async function issuerProblems(runtime: Runtime): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ISSUER_PROOF_TIMEOUT_MS)
  })
  const result = await Promise.race([runtime.verifier.readiness(), timeout])
  clearTimeout(timer)
  if (result === null) return [`issuers: keys not fetched within ${ISSUER_PROOF_TIMEOUT_MS / 1000} s`]
  return Object.entries(result.issuers)
    .filter(([, r]) => !r.ready)
    .map(([id, r]) => `issuers.${id}: discovery/JWKS not reachable${r.reason ? ` (${r.reason})` : ''}`)
}

/** Loads and proves `text`; the runtime to swap in, or every problem found. */
async function prove(
  live: LiveConfig,
  text: string,
  sha256: string,
): Promise<{ runtime: Runtime; config: Config } | { problems: string[] }> {
  const running = live.holder.current()
  let config: Config
  try {
    config = loadConfig(text)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { problems: err.problems.map((p) => `${p.path || '(root)'}: ${p.message}`) }
  }
  const restart = restartOnlyChanges(running.config, config)
  if (restart.length > 0)
    return { problems: restart.map((c) => `${c} needs a restart; change only issuers and rules live`) }
  const runtime = buildRuntime(
    config,
    { generation: running.generation + 1, sha256, shadow: running.shadow },
    live.parts,
  )
  const unreachable = await issuerProblems(runtime)
  return unreachable.length > 0 ? { problems: unreachable } : { runtime, config }
}

/** The shadow follows the live config: re-read with each reload; an invalid candidate keeps the last. */
function reloadShadow(live: LiveConfig, runtime: Runtime): Runtime {
  const path = live.parts.shadowPath
  if (!path) return runtime
  try {
    return Object.freeze({ ...runtime, shadow: loadShadow(path, live.parts.logger, live.metrics) })
  } catch (err) {
    const problems =
      err instanceof ConfigError ? err.problems.map((p) => `${p.path}: ${p.message}`) : ['error']
    live.parts.logger.error({ event: 'shadow.reload_failed', problems }, 'shadow config not reloaded')
    return runtime
  }
}

/** One reload of `path`. Never throws for a bad file: logs, counts and keeps serving the last good. */
export async function reloadConfig(
  live: LiveConfig,
  path: string,
  trigger: ReloadTrigger,
): Promise<ReloadResult> {
  const { logger } = live.parts
  const running = live.holder.current()
  let text: string | null = null
  let proved: Awaited<ReturnType<typeof prove>>
  try {
    text = readConfigFile(path)
    proved = await prove(live, text, sha256Hex(text))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    proved = { problems: err.problems.map((p) => p.message) }
  }
  const sha256 = text === null ? '' : sha256Hex(text)
  if ('problems' in proved) {
    live.metrics.reloadFailed()
    logger.error(
      {
        event: 'config.reload_failed',
        trigger,
        sha256,
        generation: running.generation,
        problems: proved.problems,
      },
      'config not reloaded; the last good config keeps serving',
    )
    return { ok: false, generation: running.generation, problems: proved.problems }
  }
  const next = reloadShadow(live, proved.runtime)
  live.holder.swap(next)
  const dropped = live.parts.sts.evict(retiredByReload(running.config, proved.config))
  live.metrics.generation(next.generation)
  logger.info(
    {
      event: 'config.reloaded',
      trigger,
      generation: next.generation,
      sha256,
      rules: next.rules.length,
      issuers: proved.config.issuers.length,
      cache_entries_dropped: dropped,
    },
    'config reloaded',
  )
  logRuleWarnings(logger, next)
  return { ok: true, generation: next.generation, problems: [] }
}

/**
 * The warnings `check-config` prints about selectable rules (design §14), as one `config.warning` line
 * each: at start and after every reload, where an operator who never ran check-config sees them.
 */
export function logRuleWarnings(logger: Logger, runtime: Pick<Runtime, 'rules' | 'generation'>): void {
  for (const warning of selectableWarnings(runtime.rules))
    logger.warn({ event: 'config.warning', generation: runtime.generation, warning }, 'config warning')
}

/** SIGHUP and changes of the file (its directory watched, its target polled) reload. Returns a stop. */
export function startReloader(
  live: LiveConfig,
  path: string,
  options: { intervalMs?: number } = {},
): () => void {
  let chain: Promise<unknown> = Promise.resolve()
  const enqueue = (trigger: ReloadTrigger) => {
    chain = chain.then(() => reloadConfig(live, path, trigger)).catch(() => undefined)
    return chain
  }
  const onHup = () => void enqueue('SIGHUP')
  process.on('SIGHUP', onHup)
  const watcher = watchFile(path, live.holder.current().sha256, () => enqueue('file').then(() => undefined), {
    intervalMs: options.intervalMs ?? 1000,
  })
  return () => {
    process.off('SIGHUP', onHup)
    watcher.close()
  }
}
