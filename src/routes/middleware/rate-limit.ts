// Per-IP (before auth) and per-subject (after auth) limits with express-rate-limit; memory or Redis store.
import type { NextFunction, Request, Response } from 'express'
import {
  type ClientRateLimitInfo,
  type IncrementResponse,
  ipKeyGenerator,
  type Options,
  rateLimit,
  type Store,
} from 'express-rate-limit'
import { RedisStore } from 'rate-limit-redis'
import { createClient } from 'redis'
import type { Config } from '../../config/index.ts'
import { RateLimited, UpstreamUnavailable } from '../../errors.ts'
import type { Caller } from '../../types.ts'

/**
 * Makes a store fail closed: any store error becomes 503 upstream_unavailable, never "unlimited".
 * A store whose init failed (Redis down at start: rate-limit-redis then keeps a rejected script
 * promise forever) is initialised again on the next request, so limits recover with Redis.
 */
function failClosed(inner: Store): Store {
  let options: Options | undefined
  let ready: Promise<void> | undefined
  const ensureReady = (): Promise<void> | undefined => {
    if (!ready && options && inner.init) {
      const attempt = Promise.resolve(inner.init(options)).then(() => undefined)
      ready = attempt
      attempt.catch(() => {
        if (ready === attempt) ready = undefined
      })
    }
    return ready
  }
  const store: Store = {
    init(o) {
      options = o
      ensureReady()?.catch(() => undefined)
    },
    async increment(key: string): Promise<IncrementResponse> {
      try {
        await ensureReady()
        return await inner.increment(key)
      } catch (err) {
        throw new UpstreamUnavailable(1, { reason: 'rate-limit store unavailable', cause: err })
      }
    },
    async decrement(key: string) {
      try {
        await inner.decrement(key)
      } catch {
        // A lost decrement only makes the limit stricter.
      }
    },
    resetKey: (key: string) => inner.resetKey(key),
    localKeys: inner.localKeys ?? false,
  }
  if (inner.get)
    store.get = (key): Promise<ClientRateLimitInfo | undefined> | ClientRateLimitInfo | undefined =>
      inner.get?.(key)
  if (inner.prefix !== undefined) store.prefix = inner.prefix
  return store
}

export interface LimiterStores {
  perIp?: Store
  perSubject?: Store
  close(): Promise<void>
}

/** Connects to Redis when `limits.store: redis`; commands fail at once while it is down (no offline queue). */
export async function createLimiterStores(limits: Config['limits']): Promise<LimiterStores> {
  if (limits.store !== 'redis') return { close: async () => {} }
  const client = createClient({
    url: limits.redisUrl,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(retries * 200, 2000) },
  })
  // Errors surface per request as 503; the client keeps reconnecting in the background and start-up
  // never waits on Redis.
  client.on('error', () => {})
  const connected = client.connect().catch(() => undefined)
  await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  const sendCommand = (...args: string[]) => client.sendCommand(args) as Promise<never>
  return {
    perIp: new RedisStore({ sendCommand, prefix: 'sts-vend:ip:' }),
    perSubject: new RedisStore({ sendCommand, prefix: 'sts-vend:sub:' }),
    close: async () => {
      // quit() waits for pending replies, which never come while Redis is unreachable.
      if (client.isReady) await client.quit().catch(() => client.destroy())
      else client.destroy()
    },
  }
}

function retryAfterOf(req: Request): number {
  const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime
  return reset ? (reset.getTime() - Date.now()) / 1000 : 1
}

/** 429 at once when one client address (IPv6 grouped by /56) is over `limits.perIp`. */
export function perIpLimit(limits: Config['limits'], store?: Store) {
  return rateLimit({
    windowMs: limits.perIp.windowSeconds * 1000,
    limit: limits.perIp.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown', 56),
    handler: (req, _res, next) => next(new RateLimited(retryAfterOf(req), { reason: 'per-IP limit' })),
    validate: { trustProxy: false, xForwardedForHeader: false },
    ...(store ? { store: failClosed(store) } : {}),
  } as Partial<Options>)
}

/**
 * Counts every authenticated request against `limits.perSubject` (iss + sub), refused ones included,
 * so probing is bounded. Over the limit it only marks the request: the 429 comes after the rule
 * decision (design §6.1 order), from `assertSubjectWithinLimit`.
 */
export function perSubjectLimit(limits: Config['limits'], store?: Store) {
  return rateLimit({
    windowMs: limits.perSubject.windowSeconds * 1000,
    limit: limits.perSubject.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => {
      const caller = res.locals['caller'] as Caller
      return JSON.stringify([caller.issuerId, caller.subject])
    },
    handler: (req: Request, res: Response, next: NextFunction) => {
      res.locals['subjectLimited'] = retryAfterOf(req)
      next()
    },
    validate: { trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
    ...(store ? { store: failClosed(store) } : {}),
  } as Partial<Options>)
}

export function assertSubjectWithinLimit(res: Response): void {
  const retryAfter = res.locals['subjectLimited'] as number | undefined
  if (retryAfter !== undefined) throw new RateLimited(retryAfter, { reason: 'per-subject limit' })
}
