// The rate limits' stores: express-rate-limit's Redis store for `limits.store: redis` (memory otherwise,
// made by the middleware), wrapped to fail closed.
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit'
import type { Config } from '../config/index.ts'
import { UpstreamUnavailable } from '../errors.ts'
import { loadCreateRedisClient } from '../redis-client.ts'

/**
 * Makes a store fail closed: any store error becomes 503 upstream_unavailable, never "unlimited".
 * A store whose init failed (Redis down at start: rate-limit-redis then keeps a rejected script
 * promise forever) is initialised again on the next request, so limits recover with Redis.
 */
export function failClosed(inner: Store): Store {
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
  const [{ RedisStore }, createClient] = await Promise.all([
    import('rate-limit-redis'),
    loadCreateRedisClient(),
  ])
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
