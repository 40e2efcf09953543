// `sts-vend diff LIVE CANDIDATE`: for each identity, the grant under both configs, compared semantically.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type Config, ConfigError, compileRules, issuerUrl, loadConfigFile } from '../config/index.ts'
import type { CompiledRule } from '../policies/index.ts'
import {
  type Capability,
  compareGrants,
  describeCapabilities,
  type GrantChange,
} from '../services/grant-diff.ts'
import { decideUnder } from '../services/shadow.ts'
import type { Caller } from '../types.ts'
import { type Command, EXIT, UsageError } from './command.ts'

const HELP = `Usage: sts-vend diff LIVE CANDIDATE (--identities FILE | --from-audit LOG) [--accept-widening] [--json]

Decides a plain credentials request of every identity under the LIVE and the CANDIDATE config (the
same rule selection and rendering as the service, no token, no STS) and compares the two grants
semantically: the actions × resources gained and lost, read from the rendered session policies.
Prints one line per identity whose grant changes; identities whose grant is the same print nothing.

  --identities FILE   JSON lines {"issuer": ID or iss URL, "claims": {"sub": ..., ...}}
  --from-audit LOG    the service's log: every (iss, sub) of a credentials.issued line, once. The audit
                      line has no claims besides sub, so rules with "when" conditions will not match
                      these identities under either config.
  --accept-widening   exit 0 even when an identity gains access
  --json              one JSON object: {identities, changed: [{issuer, sub, outcome, widens, gained,
                      lost, other}]}

An identity widens when the candidate grants it an action on a resource the live config does not
(a denied identity becoming allowed, a wider prefix or access, a dropped condition), another role, or
a longer duration.

Exit codes: 0 nothing widens; 2 an identity gains access (unless --accept-widening); 1 invalid input
(bad config, unreadable or malformed identities); 2 also for a usage error.`

class InvalidInput extends Error {}

interface Identity {
  /** An issuers[].id (of either config) or an iss URL. */
  issuer: string
  claims: Record<string, unknown>
}

interface Side {
  config: Config
  rules: CompiledRule[]
}

function load(path: string, what: string): Side {
  try {
    const config = loadConfigFile(path)
    return { config, rules: compileRules(config) }
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidInput(`${what} ${path}: ${err.message}`)
    throw err
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new InvalidInput(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function identitiesFile(path: string): Identity[] {
  const out: Identity[] = []
  readText(path)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        throw new InvalidInput(`${path}:${i + 1}: not JSON`)
      }
      if (!isObject(value) || typeof value['issuer'] !== 'string' || !isObject(value['claims']))
        throw new InvalidInput(`${path}:${i + 1}: must be {"issuer": string, "claims": {...}}`)
      const sub = value['claims']['sub']
      if (typeof sub !== 'string' || sub === '')
        throw new InvalidInput(`${path}:${i + 1}: claims.sub must be a non-empty string`)
      out.push({ issuer: value['issuer'], claims: value['claims'] })
    })
  return out
}

/** (iss, sub) of every credentials.issued line, each once, in first-seen order. */
function identitiesFromAudit(path: string): Identity[] {
  const seen = new Map<string, Identity>()
  for (const line of readText(path).split('\n')) {
    if (!line.includes('credentials.issued')) continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      continue
    }
    if (!isObject(value) || value['event'] !== 'credentials.issued') continue
    const { iss, sub } = value
    if (typeof iss !== 'string' || typeof sub !== 'string' || sub === '') continue
    const key = JSON.stringify([iss, sub])
    if (!seen.has(key)) seen.set(key, { issuer: iss, claims: { iss, sub } })
  }
  if (seen.size === 0) throw new InvalidInput(`${path}: no credentials.issued lines with iss and sub`)
  return [...seen.values()]
}

/** The identity as a verified caller: its iss URL resolved through either config's issuer ids. */
function callerOf(identity: Identity, live: Config, candidate: Config): Caller {
  const byId = [...live.issuers, ...candidate.issuers].find((i) => i.id === identity.issuer)
  const iss = byId ? issuerUrl(byId) : identity.issuer
  return {
    issuerId: byId?.id ?? identity.issuer,
    issuer: iss,
    subject: String(identity.claims['sub']),
    claims: { ...identity.claims, iss },
  }
}

interface Changed extends GrantChange {
  issuer: string
  sub: string
}

function textLine(c: Changed): string {
  const parts = [...describeCapabilities('+', c.gained), ...describeCapabilities('-', c.lost), ...c.other]
  return `${c.outcome.padEnd(8)} ${c.issuer} ${JSON.stringify(c.sub)}  ${parts.join('; ')}`
}

const capJson = (caps: Capability[]) =>
  caps.map((c) => ({ action: c.action, scope: c.scope, conditions: c.conditions }))

function compareAll(identities: Identity[], live: Side, candidate: Side): Changed[] {
  const changed: Changed[] = []
  for (const identity of identities) {
    const caller = callerOf(identity, live.config, candidate.config)
    const ask = { format: 'json' as const }
    const before = decideUnder(live.config, live.rules, caller, ask, '127.0.0.1')
    const after = decideUnder(candidate.config, candidate.rules, caller, ask, '127.0.0.1')
    const change = compareGrants(before, after)
    if (change.outcome !== 'same' || change.widens)
      changed.push({ ...change, issuer: identity.issuer, sub: caller.subject })
  }
  return changed
}

export const diffCommand: Command = {
  summary: 'compare what two configs grant, identity by identity (exit 2 when access widens)',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        identities: { type: 'string' },
        'from-audit': { type: 'string' },
        'accept-widening': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    })
    const [livePath, candidatePath, ...extra] = positionals
    if (!livePath || !candidatePath || extra.length > 0) throw new UsageError('diff needs LIVE and CANDIDATE')
    if ((values.identities === undefined) === (values['from-audit'] === undefined))
      throw new UsageError('give exactly one of --identities FILE or --from-audit LOG')
    try {
      const live = load(livePath, 'live')
      const candidate = load(candidatePath, 'candidate')
      const identities = values.identities
        ? identitiesFile(values.identities)
        : identitiesFromAudit(values['from-audit'] ?? '')
      const changed = compareAll(identities, live, candidate)
      const widened = changed.filter((c) => c.widens).length
      if (values.json) {
        const rows = changed.map((c) => ({ ...c, gained: capJson(c.gained), lost: capJson(c.lost) }))
        io.out(`${JSON.stringify({ identities: identities.length, widened, changed: rows })}\n`)
      } else {
        io.out(changed.map((c) => `${textLine(c)}\n`).join(''))
        io.err(`${identities.length} identities: ${changed.length} changed, ${widened} widened\n`)
      }
      return widened > 0 && !values['accept-widening'] ? 2 : EXIT.ok
    } catch (err) {
      if (!(err instanceof InvalidInput)) throw err
      io.err(`sts-vend diff: ${err.message}\n`)
      return EXIT.invalid
    }
  },
}
