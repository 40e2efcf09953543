// What a config change does to one caller's grant, semantically: the actions × resources gained and lost,
// read from the rendered session policies (never from YAML text). Pure.
import type { PolicyDocument, PolicyStatement } from '../policies/index.ts'
import type { Grant } from '../types.ts'

/** One right: an action on a resource pattern (an object glob, or a bucket with a listing prefix). */
export interface Capability {
  action: string
  /** `bucket/users/alice/*`, `bucket/users/alice/a.txt`, or `bucket (list users/alice/*)` for listings. */
  scope: string
  /** The statement's other conditions, as `Operator:key=value`; more conditions mean narrower. */
  conditions: readonly string[]
}

export type GrantOutcome = 'same' | 'widened' | 'narrowed' | 'changed' | 'allowed' | 'denied'

export interface GrantChange {
  outcome: GrantOutcome
  /** True when the candidate may give this caller anything the live config does not. */
  widens: boolean
  gained: Capability[]
  lost: Capability[]
  /** Changes of the grant outside its policy: role, duration, rule. */
  other: string[]
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v
const short = (resource: string) => resource.replace(/^acs:oss:\*:\*:/, '')

function statementCapabilities(statement: PolicyStatement): Capability[] {
  if (statement.Effect !== 'Allow') return []
  const conditions: string[] = []
  let listPrefixes: readonly string[] | null = null
  for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(entries)) {
      if (operator === 'StringLike' && key === 'oss:Prefix')
        listPrefixes = list(value as string[]).map(String)
      else conditions.push(`${operator}:${key}=${JSON.stringify(value)}`)
    }
  }
  conditions.sort()
  const out: Capability[] = []
  for (const action of list(statement.Action)) {
    for (const resource of list(statement.Resource)) {
      if (listPrefixes === null) out.push({ action, scope: short(resource), conditions })
      else
        for (const p of listPrefixes)
          out.push({ action, scope: `${short(resource)} (list ${p})`, conditions })
    }
  }
  return out
}

export function capabilities(policy: string): Capability[] {
  const document = JSON.parse(policy) as PolicyDocument
  return document.Statement.flatMap(statementCapabilities)
}

/** A trailing `*` is the only wildcard sts-vend renders: `a*` covers every pattern starting with `a`. */
function globCovers(wide: string, narrow: string): boolean {
  if (wide === narrow) return true
  const list = / \(list (.*)\)$/
  const w = list.exec(wide)
  const n = list.exec(narrow)
  if (w || n) {
    if (!w || !n || wide.slice(0, w.index) !== narrow.slice(0, n.index)) return false
    return globCovers(w[1] ?? '', n[1] ?? '')
  }
  return wide.endsWith('*') && narrow.startsWith(wide.slice(0, -1))
}

/** `a` allows at least everything `b` does: same action, wider or equal scope, no condition `b` lacks. */
export function covers(a: Capability, b: Capability): boolean {
  return (
    a.action === b.action &&
    globCovers(a.scope, b.scope) &&
    a.conditions.every((c) => b.conditions.includes(c))
  )
}

function otherChanges(live: Grant, candidate: Grant): { other: string[]; widens: boolean } {
  const other: string[] = []
  let widens = false
  if (live.ruleId !== candidate.ruleId) other.push(`rule ${live.ruleId} → ${candidate.ruleId}`)
  if (live.roleArn !== candidate.roleArn) {
    // A session policy is intersected with the role's own policy: another role may allow more.
    other.push(`role ${live.roleArn} → ${candidate.roleArn}`)
    widens = true
  }
  if (live.durationSeconds !== candidate.durationSeconds) {
    other.push(`durationSeconds ${live.durationSeconds} → ${candidate.durationSeconds}`)
    widens ||= candidate.durationSeconds > live.durationSeconds
  }
  return { other, widens }
}

/** Compares one caller's grant under the live and the candidate config (null: denied there). */
export function compareGrants(live: Grant | null, candidate: Grant | null): GrantChange {
  if (live === null && candidate === null)
    return { outcome: 'same', widens: false, gained: [], lost: [], other: [] }
  if (live === null)
    return {
      outcome: 'allowed',
      widens: true,
      gained: capabilities(candidate?.policy ?? ''),
      lost: [],
      other: [],
    }
  if (candidate === null)
    return { outcome: 'denied', widens: false, gained: [], lost: capabilities(live.policy), other: [] }
  const { other, widens: otherWidens } = otherChanges(live, candidate)
  if (live.policySha256 === candidate.policySha256)
    return {
      outcome: other.length === 0 ? 'same' : 'changed',
      widens: otherWidens,
      gained: [],
      lost: [],
      other,
    }
  const before = capabilities(live.policy)
  const after = capabilities(candidate.policy)
  const gained = after.filter((c) => !before.some((l) => covers(l, c)))
  const lost = before.filter((l) => !after.some((c) => covers(c, l)))
  const widens = gained.length > 0 || otherWidens
  let outcome: GrantOutcome = 'changed'
  if (other.length === 0 && gained.length > 0 && lost.length === 0) outcome = 'widened'
  else if (other.length === 0 && lost.length > 0 && gained.length === 0) outcome = 'narrowed'
  else if (other.length === 0 && gained.length === 0 && lost.length === 0) outcome = 'same'
  return { outcome, widens, gained, lost, other }
}

/**
 * `+oss:GetObject,oss:PutObject × bucket/users/*` lines, one per scope. Conditions are shown only where
 * they are the change (the other side has the same action on the same scope).
 */
export function describeCapabilities(
  sign: '+' | '-',
  caps: readonly Capability[],
  otherSide: readonly Capability[] = [],
): string[] {
  const byScope = new Map<string, string[]>()
  for (const c of caps) {
    const conditionOnly = otherSide.some((o) => o.action === c.action && o.scope === c.scope)
    const scope = conditionOnly ? `${c.scope} [${c.conditions.join(', ') || 'no condition'}]` : c.scope
    const actions = byScope.get(scope) ?? []
    actions.push(c.action)
    byScope.set(scope, actions)
  }
  return [...byScope].map(([scope, actions]) => `${sign}${actions.join(',')} × ${scope}`)
}
