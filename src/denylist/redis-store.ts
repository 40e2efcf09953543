// The deny list in the fleet's Redis (issue 19): one hash `<prefix>deny` of selector → JSON entry, and a
// version counter `<prefix>deny:v` bumped with every change. Replicas poll the counter (1 s by default) and
// re-read the hash when it moved, so a change reaches every replica within about a second.
import { z } from 'zod'
import type { FleetRedis } from '../fleet/redis.ts'
import { type DenyEntry, DenyListError, type DenySelector, denyEntrySchema, selectorOf } from './model.ts'
import type { DenyListStore } from './store.ts'

// One script each, not MULTI: the connection is shared with the fleet cache and budget.
const ADD_SCRIPT = `local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return added`
const REMOVE_SCRIPT = `local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed > 0 then redis.call('INCR', KEYS[2]) end
return removed`

/** The hash field naming a selector: `rule:<id>`, `issuer:<id>`, `sub:<issuer>\0<sub>`. */
export function selectorField(s: DenySelector): string {
  if ('rule' in s) return `rule:${s.rule}`
  return s.sub === undefined ? `issuer:${s.issuer}` : `sub:${s.issuer}\0${s.sub}`
}

/** HGETALL's reply: an object of field → value (the client's RESP2 mapping), or a flat array. */
function hashPairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const pairs: [string, string][] = []
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([String(reply[i]), String(reply[i + 1])])
    return pairs
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)])
  if (reply && typeof reply === 'object') return Object.entries(reply).map(([k, v]) => [k, String(v)])
  return []
}

function parseHash(reply: unknown, description: string): DenyEntry[] {
  const entries: DenyEntry[] = []
  const problems: string[] = []
  for (const [field, text] of hashPairs(reply)) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined
    }
    const parsed = denyEntrySchema.safeParse(value)
    if (parsed.success) entries.push(parsed.data)
    else problems.push(`${description}: field ${JSON.stringify(field)} is not a deny entry`)
  }
  if (problems.length > 0) throw new DenyListError(problems)
  // Stable order for `deny list`: oldest first.
  return entries.sort((a, b) => (a.addedAt ?? '').localeCompare(b.addedAt ?? ''))
}

const versionSchema = z.union([z.string(), z.null()])

/**
 * A DenyListStore over the fleet's Redis. Every call rejects with FleetRedisError when Redis does not
 * answer; `watch` reports the first failed poll once (as a DenyListError) and keeps the last list.
 */
export function createRedisDenyListStore(options: {
  redis: FleetRedis
  prefix: string
  pollMs?: number
}): DenyListStore {
  const { redis, prefix } = options
  const hashKey = `${prefix}deny`
  const versionKey = `${prefix}deny:v`
  const description = `fleet redis ${hashKey}`
  const list = async () => parseHash(await redis.send(['HGETALL', hashKey]), description)
  return {
    description,
    list,
    async add(entry) {
      const field = selectorField(selectorOf(entry))
      const added = await redis.send([
        'EVAL',
        ADD_SCRIPT,
        2,
        hashKey,
        versionKey,
        field,
        JSON.stringify(entry),
      ])
      return Number(added) === 1 ? 'added' : 'replaced'
    },
    async remove(selector) {
      const removed = await redis.send([
        'EVAL',
        REMOVE_SCRIPT,
        2,
        hashKey,
        versionKey,
        selectorField(selector),
      ])
      return Number(removed) > 0
    },
    watch(onChange, onError) {
      // Unknown at first: the first successful poll always delivers the list (it may have changed since
      // the caller's list(), or Redis may have been down then).
      let seen: string | null | undefined
      let failing = false
      let busy = false
      const poll = async () => {
        if (busy) return
        busy = true
        try {
          const version = versionSchema.parse(await redis.send(['GET', versionKey]))
          if (version !== seen || failing) {
            const entries = await list()
            seen = version
            onChange(entries)
          }
          failing = false
        } catch (err) {
          if (!failing)
            onError(
              err instanceof DenyListError
                ? err
                : new DenyListError([`${description} cannot be read; the last list read stays in force`]),
            )
          failing = true
        } finally {
          busy = false
        }
      }
      const timer = setInterval(() => void poll(), options.pollMs ?? 1000)
      timer.unref()
      void poll()
      return { close: () => clearInterval(timer) }
    },
  }
}

/**
 * Fleet mode's deny list: the operator's file (when `denylist.file` is set) and the fleet's Redis. A
 * caller is denied when either holds an active entry for it (the union); `add` and `remove` write both
 * (the file first), so the CLI keeps them together. `remove` reports true when either held the entry.
 * `list` fails when Redis does not answer, unless `redisDownIsEmpty` (the service at start-up: it serves
 * on the file's entries and picks Redis's up on the first poll that succeeds).
 */
export function createFleetDenyListStore(
  file: DenyListStore | null,
  redis: DenyListStore,
  options: { redisDownIsEmpty?: boolean; onRedisDown?: () => void } = {},
): DenyListStore {
  let fromFile: DenyEntry[] = []
  let fromRedis: DenyEntry[] = []
  const union = () => [...fromFile, ...fromRedis]
  const readRedis = async () => {
    try {
      return await redis.list()
    } catch (err) {
      if (!options.redisDownIsEmpty || err instanceof DenyListError) throw err
      options.onRedisDown?.()
      return []
    }
  }
  return {
    description: file ? `${file.description} + ${redis.description}` : redis.description,
    async list() {
      fromFile = file ? await file.list() : []
      fromRedis = await readRedis()
      return union()
    },
    async add(entry) {
      const inFile = file ? await file.add(entry) : 'added'
      const inRedis = await redis.add(entry)
      return inFile === 'replaced' || inRedis === 'replaced' ? 'replaced' : 'added'
    },
    async remove(selector) {
      const inFile = file ? await file.remove(selector) : false
      const inRedis = await redis.remove(selector)
      return inFile || inRedis
    },
    watch(onChange, onError) {
      const watches = [
        redis.watch((entries) => {
          fromRedis = entries
          onChange(union())
        }, onError),
      ]
      if (file)
        watches.push(
          file.watch((entries) => {
            fromFile = entries
            onChange(union())
          }, onError),
        )
      return {
        close: () => {
          for (const w of watches) w.close()
        },
      }
    },
  }
}
