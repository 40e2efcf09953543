// Per-IP (before auth) and per-subject (after auth) fixed-window limits over express-rate-limit's stores
// (memory, or Redis from src/limits/).
import type { NextFunction, Request, Response } from 'express'
import { type IncrementResponse, ipKeyGenerator, type Options, type Store } from 'express-rate-limit'
import type { Config } from '../../config/index.ts'
import { RateLimited } from '../../errors.ts'
import { CompactMemoryStore } from '../../limits/memory-store.ts'
import { failClosed } from '../../limits/stores.ts'
import { callerOf } from '../locals.ts'
import { requestIp } from './client-ip.ts'

interface WindowLimit {
  limit: number
  windowSeconds: number
}

type OverLimit = (retryAfterSeconds: number, req: Request, res: Response, next: NextFunction) => void

/**
 * Counts one hit for `keyOf(req, res)` in `store` (a CompactMemoryStore when none is given)
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
  const store = given ? failClosed(given) : new CompactMemoryStore()
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
    (req) => {
      const ip = requestIp(req) || 'unknown'
      // An address without ':' is not IPv6: ipKeyGenerator returns it as is, without its isIPv6 regex.
      return ip.includes(':') ? ipKeyGenerator(ip, 56) : ip
    },
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
