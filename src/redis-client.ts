// The Redis client's createClient, loaded on first use (limits.store: redis, fleet mode): the package
// alone is ~19 MiB of RSS that a service without Redis never pays.
import type * as RedisModule from 'redis'

export type CreateRedisClient = typeof RedisModule.createClient

/**
 * `redis` is CommonJS. Node and vitest name its exports on the namespace of a dynamic import(); in the
 * esbuild bundle (scripts/build.mjs) the import() becomes a chunk whose only export is `default`, the
 * package's module.exports.
 */
export async function loadCreateRedisClient(): Promise<CreateRedisClient> {
  const namespace = (await import('redis')) as typeof RedisModule & { default?: typeof RedisModule }
  const createClient = namespace.createClient ?? namespace.default?.createClient
  if (typeof createClient !== 'function') throw new TypeError('the redis package has no createClient')
  return createClient
}
