// The fleet's Redis connection: one client, commands that fail fast (no offline queue, a timeout each).
import type { Logger } from '../logger.ts'
import { loadCreateRedisClient } from '../redis-client.ts'

/** A Redis command failed or timed out: the fleet falls back to local mode. */
export class FleetRedisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FleetRedisError'
  }
}

export interface FleetRedis {
  /** Sends one command; rejects with FleetRedisError on any error or after the command timeout. */
  send(args: readonly (string | number)[]): Promise<unknown>
  /** True while the connection is up. */
  isReady(): boolean
  /** Called on every (re)connection. */
  onReady(listener: () => void): void
  close(): Promise<void>
}

export interface FleetRedisOptions {
  url: string
  logger?: Logger
  /** Per-command timeout. Default 1000 ms. */
  commandTimeoutMs?: number
}

/**
 * Connects as src/routes/middleware/rate-limit.ts does: the client is loaded lazily, has no offline
 * queue (a command while Redis is down fails at once) and reconnects in the background; start-up waits
 * at most 2 s for the first connection and never fails on it.
 */
export async function connectFleetRedis(options: FleetRedisOptions): Promise<FleetRedis> {
  const createClient = await loadCreateRedisClient()
  const timeoutMs = options.commandTimeoutMs ?? 1000
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(retries * 200, 1000) },
  })
  // Errors surface per command; the URL may hold a password, so the error text is never logged.
  client.on('error', () => {})
  const listeners: (() => void)[] = []
  client.on('ready', () => {
    for (const listener of listeners) listener()
  })
  const connected = client.connect().catch(() => undefined)
  await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  return {
    async send(args) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FleetRedisError('redis command timed out')), timeoutMs)
      })
      try {
        return await Promise.race([client.sendCommand(args.map(String)), timeout])
      } catch (err) {
        if (err instanceof FleetRedisError) throw err
        throw new FleetRedisError('redis command failed', { cause: err })
      } finally {
        clearTimeout(timer)
      }
    },
    isReady: () => client.isReady,
    onReady: (listener) => {
      listeners.push(listener)
    },
    close: async () => {
      if (client.isReady) await client.quit().catch(() => client.destroy())
      else client.destroy()
    },
  }
}
