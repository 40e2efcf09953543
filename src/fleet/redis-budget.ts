// The fleet's AssumeRole budget: sts.maxCallsPerSecond for all replicas together, a sliding window in Redis.
import { setTimeout as delay } from 'node:timers/promises'
import { UpstreamUnavailable } from '../errors.ts'
import type { CallPriority } from './priority.ts'
import type { FleetRedis } from './redis.ts'

/**
 * Grants a slot when fewer than `limit` slots were granted in the last `window` ms (Redis clock, so every
 * replica sees one time); otherwise answers the ms until one more slot frees. Every slot is granted at
 * "now" after checking the window that ends now, so no window of `window` ms ever holds more than `limit`.
 */
const TAKE_SCRIPT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, now .. ':' .. seq)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  redis.call('PEXPIRE', KEYS[2], window * 2)
  return {1, n + 1}
end
local blocking = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(blocking[2]) + window - now + 1}`

export interface FleetBudgetOptions {
  redis: FleetRedis
  prefix: string
  /** sts.maxCallsPerSecond: the whole fleet's budget. */
  perSecond: number
  /** How long a call may wait for a slot. Default 1000 ms. */
  maxWaitMs?: number
  /**
   * Extra ms on the one-second window, so that calls granted 1 s apart still reach STS 1 s apart when
   * one of them is slower on the way; a slot whose answer took longer than this is not used. Default 100.
   */
  guardMs?: number
  /** Share of each second only refreshes may use. Default 0.2. */
  refreshShare?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  onWait?: (priority: CallPriority, ms: number) => void
  onGrant?: (priority: CallPriority, used: number) => void
}

export interface FleetBudget {
  /**
   * Resolves when the call may go. Throws UpstreamUnavailable (Retry-After = the wait still needed) when
   * no slot frees within maxWaitMs, FleetRedisError when Redis fails.
   */
  acquire(priority: CallPriority): Promise<void>
  /** Slots new callers may use per window (refreshes may use all `perSecond`). */
  readonly newCallerLimit: number
}

/** Creates the budget. New callers stop at perSecond − reserve; refreshes may use the reserved share. */
export function createFleetBudget(options: FleetBudgetOptions): FleetBudget {
  const { redis, perSecond } = options
  if (!(Number.isInteger(perSecond) && perSecond >= 1)) throw new TypeError('perSecond must be ≥ 1')
  const maxWaitMs = options.maxWaitMs ?? 1000
  const guardMs = options.guardMs ?? 100
  const window = 1000 + guardMs
  const reserve = Math.floor(perSecond * (options.refreshShare ?? 0.2))
  const newCallerLimit = Math.max(1, perSecond - reserve)
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => delay(ms))
  const keys = [`${options.prefix}budget`, `${options.prefix}budget:seq`]
  const refuse = (waitMs: number) =>
    new UpstreamUnavailable(Math.max(waitMs, 1) / 1000, {
      reason: `sts.maxCallsPerSecond (${perSecond}) reached across the fleet`,
    })
  return {
    newCallerLimit,
    async acquire(priority) {
      const limit = priority === 'refresh' ? perSecond : newCallerLimit
      const started = now()
      for (;;) {
        const asked = now()
        const [granted, value] = (await redis.send(['EVAL', TAKE_SCRIPT, 2, ...keys, window, limit])) as [
          number,
          number,
        ]
        const answered = now()
        const waited = answered - started
        // A slot is stamped with Redis's time: one whose answer came back late (a starved event loop) would
        // reach STS late, next to slots stamped later, so it is given up (spent, never used) and another asked.
        if (granted === 1 && answered - asked <= guardMs) {
          if (waited > 0) options.onWait?.(priority, waited)
          options.onGrant?.(priority, value)
          return
        }
        const wait = granted === 1 ? 0 : value
        if (waited + wait > maxWaitMs) {
          options.onWait?.(priority, waited)
          throw refuse(wait)
        }
        // Several replicas wait for the same slot: a little jitter keeps them from asking in lockstep.
        await sleep(wait + Math.floor(Math.random() * 10))
      }
    },
  }
}
