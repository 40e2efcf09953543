// `sts-vend deny add|list|remove`: edits the deny list named by the config's `denylist.file`.
import { parseArgs } from 'node:util'
import { type Config, loadConfigFile } from '../config/index.ts'
import {
  createFileDenyListStore,
  type DenyEntry,
  DenyListError,
  type DenyListStore,
  type DenySelector,
  describeSelector,
  isActive,
  parseTtl,
  selectorOf,
} from '../denylist/index.ts'
import { connectFleetRedis, FleetRedisError } from '../fleet/redis.ts'
import { denyListPath, denyListStore } from '../reload/index.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

const HELP = `Usage: sts-vend deny add    --config FILE (--issuer ID [--sub SUB] | --rule ID) [--ttl 12h] [--reason TEXT]
       sts-vend deny list   --config FILE [--json]
       sts-vend deny remove --config FILE (--issuer ID [--sub SUB] | --rule ID)

Edits the deny list in the file named by the config's denylist.file (relative to the config file's
directory; an absent or empty file is an empty list). The running service re-reads it within 2 s: a
denied caller gets 403 access_denied before any cache lookup, and its cached credentials are dropped.
Credentials already handed out stay valid until they expire (see the README).

In fleet mode (the config has fleet), the list also lives in the fleet's Redis (fleet.redisUrl,
key <fleet.keyPrefix>deny): add and remove write the file (when denylist.file is set) and Redis, list
shows both, and every replica sees a change within about 1 s. denylist.file is then optional.

  --config FILE   the service config (or $STS_VEND_CONFIG)
  --issuer ID     an issuers[].id: with --sub, that one subject; alone, every caller of the issuer
  --sub SUB       the subject (the token's "sub") to deny
  --rule ID       a rules[].id: nobody is issued credentials under it
  --ttl DURATION  the entry expires after 90s, 30m, 12h, 7d ... (default: never)
  --reason TEXT   kept with the entry, shown by list
  --json          list as a JSON array

Exit codes: 0 done; 1 invalid input (bad config, no denylist.file outside fleet mode, bad deny-list file, fleet Redis down, unknown issuer
or rule, nothing to remove); 2 usage error.`

class InvalidInput extends Error {}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  issuer: { type: 'string' },
  sub: { type: 'string' },
  rule: { type: 'string' },
  ttl: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

function selector(values: Values): DenySelector {
  if (values.rule !== undefined) {
    if (values.issuer !== undefined || values.sub !== undefined)
      throw new UsageError('give --rule, or --issuer with an optional --sub, not both')
    return { rule: values.rule }
  }
  if (values.issuer === undefined) throw new UsageError('give --issuer ID [--sub SUB] or --rule ID')
  return values.sub === undefined ? { issuer: values.issuer } : { issuer: values.issuer, sub: values.sub }
}

function assertKnown(config: Config, s: DenySelector): void {
  if ('rule' in s) {
    if (!config.rules.some((r) => r.id === s.rule))
      throw new InvalidInput(`unknown rule "${s.rule}" (rules: ${config.rules.map((r) => r.id).join(', ')})`)
  } else if (!config.issuers.some((i) => i.id === s.issuer)) {
    throw new InvalidInput(
      `unknown issuer "${s.issuer}" (issuers: ${config.issuers.map((i) => i.id).join(', ')})`,
    )
  }
}

function entryLine(entry: DenyEntry, now: Date): string {
  const parts = [describeSelector(selectorOf(entry))]
  if (entry.expiresAt) parts.push(`${isActive(entry, now) ? 'until' : 'expired'} ${entry.expiresAt}`)
  if (entry.reason) parts.push(`reason: ${entry.reason}`)
  return parts.join('  ')
}

async function add(store: DenyListStore, config: Config, values: Values, io: CliIo): Promise<number> {
  const s = selector(values)
  assertKnown(config, s)
  const now = new Date()
  let expiresAt: string | undefined
  if (values.ttl !== undefined) {
    try {
      expiresAt = new Date(now.getTime() + parseTtl(values.ttl) * 1000).toISOString()
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
  }
  const entry: DenyEntry = {
    ...s,
    ...(expiresAt ? { expiresAt } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
    addedAt: now.toISOString(),
  }
  const done = await store.add(entry)
  io.out(`${done}: ${entryLine(entry, now)}\n`)
  return EXIT.ok
}

/** In fleet mode, the fleet's Redis (closed after the command); a command Redis fails is invalid input. */
async function withStore(
  config: Config,
  path: string,
  use: (store: DenyListStore, where: string) => Promise<number>,
): Promise<number> {
  if (!config.fleet) {
    const file = denyListPath(config, path)
    if (!file) throw new InvalidInput(`${path} has no denylist.file: add "denylist: { file: deny.yaml }"`)
    return use(createFileDenyListStore(file), file)
  }
  const redis = await connectFleetRedis({ url: config.fleet.redisUrl, commandTimeoutMs: 3000 })
  try {
    const store = denyListStore(config, path, { redis, prefix: config.fleet.keyPrefix })
    if (!store) throw new InvalidInput(`${path}: no deny list store`)
    return await use(store, store.description)
  } catch (err) {
    if (!(err instanceof FleetRedisError)) throw err
    // Never the error text: the URL may hold a password.
    throw new InvalidInput(
      `the fleet Redis (fleet.redisUrl) did not answer; ${config.denylist ? 'the file may hold the change, but ' : ''}other replicas will not see it until it does`,
    )
  } finally {
    await redis.close()
  }
}

async function run(action: string, values: Values, io: CliIo): Promise<number> {
  const path = values.config ?? io.env['STS_VEND_CONFIG']
  if (!path) throw new UsageError('deny needs --config FILE or STS_VEND_CONFIG')
  const config = loadConfigFile(path)
  return withStore(config, path, (store, where) => act(action, { store, where }, config, values, io))
}

async function act(
  action: string,
  { store, where: file }: { store: DenyListStore; where: string },
  config: Config,
  values: Values,
  io: CliIo,
): Promise<number> {
  if (action === 'add') return add(store, config, values, io)
  if (action === 'remove') {
    const s = selector(values)
    if (!(await store.remove(s))) throw new InvalidInput(`no entry for ${describeSelector(s)} in ${file}`)
    io.out(`removed: ${describeSelector(s)}\n`)
    return EXIT.ok
  }
  const entries = await store.list()
  const now = new Date()
  if (values.json) io.out(`${JSON.stringify(entries.map((e) => ({ ...e, active: isActive(e, now) })))}\n`)
  else
    io.out(entries.length === 0 ? `${file}: empty\n` : entries.map((e) => `${entryLine(e, now)}\n`).join(''))
  return EXIT.ok
}

export const denyCommand: Command = {
  summary: 'add, list or remove deny-list entries (subjects, issuers, rules)',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    })
    const [action, ...extra] = positionals
    if (!action || !['add', 'list', 'remove'].includes(action) || extra.length > 0)
      throw new UsageError('deny needs one of add, list, remove')
    if (
      action === 'list' &&
      (values.issuer ?? values.sub ?? values.rule ?? values.ttl ?? values.reason) !== undefined
    )
      throw new UsageError('list takes only --config and --json')
    if (action === 'remove' && (values.ttl ?? values.reason) !== undefined)
      throw new UsageError('remove takes only the selector (--issuer [--sub] or --rule)')
    try {
      return await run(action, values, io)
    } catch (err) {
      if (!(err instanceof InvalidInput || err instanceof DenyListError)) throw err
      io.err(`sts-vend deny: ${err.message}\n`)
      return EXIT.invalid
    }
  },
}
