// Alibaba identity logins in fleet mode (issue 21): a signed request is accepted once by the whole fleet,
// not once per replica. One Redis `SET key 1 NX PX ttl` per login.
import { createHash } from 'node:crypto'
import type { NonceStore } from '../auth/index.ts'
import type { FleetRedis } from './redis.ts'

/**
 * Seen nonces in the fleet's Redis, each kept for as long as its request could pass the date check. The
 * key is a hash: the nonce key names the caller's AccessKeyId, which Redis never holds in clear. A Redis
 * that does not answer rejects, and the login fails closed.
 */
export function createFleetNonceStore(options: { redis: FleetRedis; prefix: string }): NonceStore {
  return {
    async claim(key, ttlMs) {
      const id = createHash('sha256').update(key).digest('hex')
      const answer = await options.redis.send([
        'SET',
        `${options.prefix}n:${id}`,
        '1',
        'NX',
        'PX',
        Math.max(1, ttlMs),
      ])
      return answer === 'OK'
    },
  }
}
