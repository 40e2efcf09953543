// Answers "is this caller (or this rule) denied now?" from a list of entries in O(1) per question. Pure.
import { type DenyEntry, isActive } from './model.ts'

export interface DenyMatcher {
  /** The active entry denying this subject or its whole issuer, or null. */
  caller(issuerId: string, subject: string, now?: Date): DenyEntry | null
  /** The active entry denying this rule, or null. */
  rule(ruleId: string, now?: Date): DenyEntry | null
  readonly size: number
}

const subjectKey = (issuer: string, sub: string) => JSON.stringify([issuer, sub])

export function createDenyMatcher(entries: readonly DenyEntry[]): DenyMatcher {
  const subjects = new Map<string, DenyEntry[]>()
  const issuers = new Map<string, DenyEntry[]>()
  const rules = new Map<string, DenyEntry[]>()
  const push = (map: Map<string, DenyEntry[]>, key: string, entry: DenyEntry) => {
    const list = map.get(key)
    if (list) list.push(entry)
    else map.set(key, [entry])
  }
  for (const entry of entries) {
    if (entry.rule !== undefined) push(rules, entry.rule, entry)
    else if (entry.sub !== undefined) push(subjects, subjectKey(entry.issuer ?? '', entry.sub), entry)
    else push(issuers, entry.issuer ?? '', entry)
  }
  const active = (list: DenyEntry[] | undefined, now: Date) => list?.find((e) => isActive(e, now)) ?? null
  return {
    caller(issuerId, subject, now = new Date()) {
      if (subjects.size === 0 && issuers.size === 0) return null
      return active(subjects.get(subjectKey(issuerId, subject)), now) ?? active(issuers.get(issuerId), now)
    },
    rule(ruleId, now = new Date()) {
      return rules.size === 0 ? null : active(rules.get(ruleId), now)
    },
    size: entries.length,
  }
}
