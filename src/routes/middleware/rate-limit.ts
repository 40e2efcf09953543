// Per-IP (before auth) and per-subject (after auth) fixed-window limits over express-rate-limit's stores (memory or Redis).
import type { NextFunction, Request, Response } from 'express'
import {
  type ClientRateLimitInfo,
  type IncrementResponse,
  ipKeyGenerator,
  MemoryStore,
  type Options,
  type Store,
} from 'express-rate-limit'
import type { Config } from '../../config/index.ts'
import { RateLimited, UpstreamUnavailable } from '../../errors.ts'
import { callerOf } from '../locals.ts'

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
  // Loaded only for a Redis store: the redis client alone is ~170 ms of start-up and ~19 MiB of RSS.
  const [{ RedisStore }, { createClient }] = await Promise.all([import('rate-limit-redis'), import('redis')])
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

interface WindowLimit {
  limit: number
  windowSeconds: number
}

type OverLimit = (retryAfterSeconds: number, req: Request, res: Response, next: NextFunction) => void

/**
 * Counts one hit for `keyOf(req, res)` in `store` (express-rate-limit's MemoryStore when none is given)
 * and sets the draft-7 `RateLimit` and `RateLimit-Policy` headers, as express-rate-limit's
 * `standardHeaders: 'draft-7'` does; over the limit it calls `over` with the seconds until the window
 * resets. A store error goes to `next` (failClosed makes it a 503). express-rate-limit's own middleware
 * (its async plumbing, debug arguments, validations) cost about 40 µs of CPU per request for the two
 * limiters, measured; its stores are kept.
 */
function windowLimiter(
  window: WindowLimit,
  given: Store | undefined,
  keyOf: (req: Request, res: Response) => string,
  over: OverLimit,
) {
  const windowMs = window.windowSeconds * 1000
  const store = given ? failClosed(given) : new MemoryStore()
  void Promise.resolve(store.init?.({ windowMs } as Options)).catch(() => undefined)
  const policy = `${window.limit};w=${window.windowSeconds}`
  return function limiter(req: Request, res: Response, next: NextFunction): void {
    let counted: Promise<IncrementResponse>
    try {
      counted = Promise.resolve(store.increment(keyOf(req, res)))
    } catch (err) {
      next(err)
      return
    }
    counted.then(({ totalHits, resetTime }) => {
      const leftMs = resetTime ? resetTime.getTime() - Date.now() : windowMs
      if (!res.headersSent) {
        res.setHeader('RateLimit-Policy', policy)
        res.setHeader(
          'RateLimit',
          `limit=${window.limit}, remaining=${Math.max(window.limit - totalHits, 0)}, reset=${Math.max(0, Math.ceil(leftMs / 1000))}`,
        )
      }
      if (totalHits > window.limit) over(leftMs / 1000, req, res, next)
      else next()
    }, next)
  }
}

/** 429 at once when one client address (IPv6 grouped by /56) is over `limits.perIp`. */
export function perIpLimit(limits: Config['limits'], store?: Store) {
  return windowLimiter(
    limits.perIp,
    store,
    (req) => ipKeyGenerator(req.ip ?? 'unknown', 56),
    (retryAfter, _req, _res, next) => next(new RateLimited(retryAfter, { reason: 'per-IP limit' })),
  )
}

/**
 * Counts every authenticated request against `limits.perSubject` (iss + sub), refused ones included,
 * so probing is bounded. Over the limit it only marks the request: the 429 comes after the rule
 * decision (design §6.1 order), from `assertSubjectWithinLimit`.
 */
export function perSubjectLimit(limits: Config['limits'], store?: Store) {
  return windowLimiter(
    limits.perSubject,
    store,
    (_req, res) => {
      const caller = callerOf(res.locals)
      return JSON.stringify([caller.issuerId, caller.subject])
    },
    (retryAfter, _req, res, next) => {
      res.locals.subjectLimited = retryAfter
      next()
    },
  )
}

export function assertSubjectWithinLimit(res: Response): void {
  const retryAfter = res.locals.subjectLimited
  if (retryAfter !== undefined) throw new RateLimited(retryAfter, { reason: 'per-subject limit' })
}
