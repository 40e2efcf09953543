// Prometheus metrics (prom-client) in a registry per app. Labels are bounded: never a sub, kid, claim or raw path.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export type StsOutcome = 'success' | 'throttled' | 'error' | 'unavailable' | 'rejected'
export type BreakerState = 'closed' | 'open' | 'half_open'

export interface Metrics {
  registry: Registry
  request(route: string, method: string, status: number, seconds: number): void
  issued(rule: string, cache: 'hit' | 'miss'): void
  denied(code: string): void
  stsCall(outcome: StsOutcome, seconds: number): void
  breaker(state: BreakerState): void
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 }

/** Creates the metrics of one app. `defaults` adds process metrics (off in tests to keep them fast). */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaults) collectDefaultMetrics({ register: registry, prefix: 'sts_vend_' })
  const requests = new Counter({
    name: 'sts_vend_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'sts_vend_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const issued = new Counter({
    name: 'sts_vend_credentials_issued_total',
    help: 'Credentials issued, by rule and cache result.',
    labelNames: ['rule', 'cache'] as const,
    registers: [registry],
  })
  const denied = new Counter({
    name: 'sts_vend_credentials_denied_total',
    help: 'Credential requests refused, by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  const stsCalls = new Counter({
    name: 'sts_vend_sts_calls_total',
    help: 'AssumeRole calls made to STS, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const stsLatency = new Histogram({
    name: 'sts_vend_sts_call_duration_seconds',
    help: 'AssumeRole call latency.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const breaker = new Gauge({
    name: 'sts_vend_sts_breaker_state',
    help: 'STS circuit breaker: 0 closed, 1 half-open, 2 open.',
    registers: [registry],
  })
  const cache = new Counter({
    name: 'sts_vend_cache_requests_total',
    help: 'Credential cache lookups, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  })
  for (const result of ['hit', 'miss']) cache.inc({ result }, 0)
  breaker.set(0)
  return {
    registry,
    request(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) })
      latency.observe({ route }, seconds)
    },
    issued(rule, result) {
      issued.inc({ rule, cache: result })
      cache.inc({ result })
    },
    denied(code) {
      denied.inc({ code })
    },
    stsCall(outcome, seconds) {
      stsCalls.inc({ outcome })
      stsLatency.observe(seconds)
    },
    breaker(state) {
      breaker.set(BREAKER_VALUE[state])
    },
  }
}
