// The deny list's entries: a subject of an issuer, a whole issuer, or a rule; each may expire. Pure: no I/O.
import { parseDocument, stringify } from 'yaml'
import { z } from 'zod'
import { formatPath } from '../config/load.ts'

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const idSchema = z.string().regex(ID, 'must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit')
const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date-time')

export const denyEntrySchema = z
  .strictObject({
    /** An issuers[].id: with `sub`, that one subject; alone, every caller of the issuer. */
    issuer: idSchema.optional(),
    sub: z.string().min(1).max(1024).optional(),
    /** A rules[].id: nobody is issued credentials under it. */
    rule: idSchema.optional(),
    expiresAt: isoDate.optional(),
    reason: z.string().max(512).optional(),
    addedAt: isoDate.optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.rule === undefined) === (e.issuer === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of issuer (with an optional sub) or rule' })
    if (e.sub !== undefined && e.issuer === undefined)
      ctx.addIssue({ code: 'custom', message: 'sub needs its issuer', path: ['sub'] })
  })

export type DenyEntry = z.output<typeof denyEntrySchema>

/** What names an entry: `deny remove` takes the same selectors as `deny add`. */
export type DenySelector = { issuer: string; sub?: string } | { rule: string }

export class DenyListError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid deny list:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'DenyListError'
  }
}

export function selectorOf(entry: DenyEntry): DenySelector {
  if (entry.rule !== undefined) return { rule: entry.rule }
  return entry.sub === undefined
    ? { issuer: entry.issuer ?? '' }
    : { issuer: entry.issuer ?? '', sub: entry.sub }
}

export function sameSelector(a: DenySelector, b: DenySelector): boolean {
  if ('rule' in a || 'rule' in b) return 'rule' in a && 'rule' in b && a.rule === b.rule
  return a.issuer === b.issuer && a.sub === b.sub
}

/** One line for people: `subject alice of issuer corp`, `issuer corp`, `rule admins`. */
export function describeSelector(s: DenySelector): string {
  if ('rule' in s) return `rule ${s.rule}`
  return s.sub === undefined ? `issuer ${s.issuer}` : `subject ${JSON.stringify(s.sub)} of issuer ${s.issuer}`
}

export function isActive(entry: DenyEntry, now: Date): boolean {
  return entry.expiresAt === undefined || Date.parse(entry.expiresAt) > now.getTime()
}

/** Parses a deny-list file's text (a YAML or JSON list of entries). An empty file is an empty list. */
export function parseDenyList(text: string): DenyEntry[] {
  if (text.trim() === '') return []
  const doc = parseDocument(text, { uniqueKeys: true })
  if (doc.errors.length > 0)
    throw new DenyListError(
      doc.errors.map((e) => `YAML: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`),
    )
  const value: unknown = doc.toJS({ maxAliasCount: 0 })
  if (value === null || value === undefined) return []
  const parsed = z.array(denyEntrySchema).safeParse(value)
  if (parsed.success) return parsed.data
  throw new DenyListError(
    parsed.error.issues.map((i) => `${i.path.length > 0 ? formatPath(i.path) : '(list)'}: ${i.message}`),
  )
}

export function serializeDenyList(entries: readonly DenyEntry[]): string {
  if (entries.length === 0) return '[]\n'
  return stringify(entries)
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** `90s`, `30m`, `12h`, `7d` → seconds. Throws RangeError on anything else (or more than 366 days). */
export function parseTtl(text: string): number {
  const m = /^([1-9]\d{0,6})([smhd])$/.exec(text)
  const seconds = m ? Number(m[1]) * (TTL_UNITS[m[2] ?? ''] ?? 0) : 0
  if (!m || seconds > 366 * 86400)
    throw new RangeError(`--ttl must be like 90s, 30m, 12h or 7d (at most 366d)`)
  return seconds
}
