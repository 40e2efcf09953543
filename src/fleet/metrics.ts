// Fleet metrics on the app's registry: budget use and waits, lock waits, sealed-cache results, fallback state.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { CallPriority } from './priority.ts'

export type FleetMode = 'starting' | 'shared' | 'local'

export interface FleetMetrics {
  budgetGrant(priority: CallPriority, used: number): void
  budgetWait(priority: CallPriority, ms: number): void
  lockWait(outcome: 'entry' | 'own_call', ms: number): void
  sealed(result: 'hit' | 'miss'): void
  mode(mode: FleetMode): void
}

const MODE_VALUE: Record<FleetMode, number> = { starting: 0, shared: 1, local: 2 }

export function createFleetMetrics(registry?: Registry): FleetMetrics {
  const registers = registry ? [registry] : []
  const grants = new Counter({
    name: 'sts_vend_fleet_budget_grants_total',
    help: 'AssumeRole slots granted by the fleet budget, by priority (refresh or new).',
    labelNames: ['priority'] as const,
    registers,
  })
  const used = new Gauge({
    name: 'sts_vend_fleet_budget_used',
    help: 'Fleet budget slots in use in the current window, as of the last grant.',
    registers,
  })
  const waits = new Histogram({
    name: 'sts_vend_fleet_budget_wait_seconds',
    help: 'Time AssumeRole calls waited for a fleet budget slot, by priority.',
    labelNames: ['priority'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  })
  const lockWaits = new Histogram({
    name: 'sts_vend_fleet_lock_wait_seconds',
    help: 'Time a replica waited on another replica’s AssumeRole for the same grant, by how it ended.',
    labelNames: ['outcome'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  })
  const sealed = new Counter({
    name: 'sts_vend_fleet_cache_requests_total',
    help: 'Fleet (sealed, shared) cache lookups, by result.',
    labelNames: ['result'] as const,
    registers,
  })
  const mode = new Gauge({
    name: 'sts_vend_fleet_mode',
    help: 'Fleet mode: 0 starting (Redis never reached), 1 shared, 2 local fallback (Redis lost).',
    registers,
  })
  const fallbacks = new Counter({
    name: 'sts_vend_fleet_fallbacks_total',
    help: 'Times this replica fell back to its local cache and budget because Redis was lost.',
    registers,
  })
  for (const result of ['hit', 'miss']) sealed.inc({ result }, 0)
  fallbacks.inc(0)
  return {
    budgetGrant(priority, n) {
      grants.inc({ priority })
      used.set(n)
    },
    budgetWait: (priority, ms) => waits.observe({ priority }, ms / 1000),
    lockWait: (outcome, ms) => lockWaits.observe({ outcome }, ms / 1000),
    sealed: (result) => sealed.inc({ result }),
    mode(next) {
      if (next === 'local') fallbacks.inc()
      mode.set(MODE_VALUE[next])
    },
  }
}
