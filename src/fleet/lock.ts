// Singleflight across replicas: a short Redis lock per grant (SET NX PX), released only by its holder.
import { randomBytes } from 'node:crypto'
import type { FleetRedis } from './redis.ts'

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

export interface GrantLock {
  /** A token when this replica now holds the lock for `hash`, null when another does. */
  tryAcquire(hash: string): Promise<string | null>
  /** Releases the lock if `token` still holds it (an expired lock taken over by another stays theirs). */
  release(hash: string, token: string): Promise<void>
}

export function createGrantLock(options: { redis: FleetRedis; prefix: string; ttlMs: number }): GrantLock {
  const { redis, prefix, ttlMs } = options
  const lockKey = (hash: string) => `${prefix}l:${hash}`
  return {
    async tryAcquire(hash) {
      const token = randomBytes(12).toString('hex')
      const answer = await redis.send(['SET', lockKey(hash), token, 'NX', 'PX', ttlMs])
      return answer === 'OK' ? token : null
    },
    async release(hash, token) {
      await redis.send(['EVAL', RELEASE_SCRIPT, 1, lockKey(hash), token])
    },
  }
}
