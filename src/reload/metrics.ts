// The reload, deny-list and shadow metrics, registered in the app's registry. Labels are bounded.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { GrantOutcome } from '../services/grant-diff.ts'
import type { ShadowCounter } from '../services/shadow.ts'

export interface ReloadMetrics {
  generation(value: number): void
  reloadFailed(): void
  shadow: ShadowCounter
}

const OUTCOMES: readonly GrantOutcome[] = ['same', 'widened', 'narrowed', 'allowed', 'denied', 'changed']

export function createReloadMetrics(registry: Registry): ReloadMetrics {
  const generation = new Gauge({
    name: 'sts_vend_config_generation',
    help: 'Generation of the config serving: 1 at start, +1 per successful reload.',
    registers: [registry],
  })
  const failures = new Counter({
    name: 'sts_vend_config_reload_failures_total',
    help: 'Config reloads refused (invalid file, unreachable issuer, a setting that needs a restart).',
    registers: [registry],
  })
  const shadow = new Counter({
    name: 'sts_vend_shadow_decisions_total',
    help: 'Requests decided under the shadow config, by how its decision compares with the live one.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  failures.inc(0)
  for (const outcome of OUTCOMES) shadow.inc({ outcome }, 0)
  return {
    generation: (value) => generation.set(value),
    reloadFailed: () => failures.inc(),
    shadow: { inc: (outcome) => shadow.inc({ outcome }) },
  }
}
