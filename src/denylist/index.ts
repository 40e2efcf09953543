// The service's deny list: the current matcher over a store, kept up to date, and the check the credential
// path makes before any cache lookup.
import { AccessDenied } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { createDenyMatcher, type DenyMatcher } from './matcher.ts'
import type { DenyEntry, DenyListError } from './model.ts'
import type { DenyListStore } from './store.ts'

export { createDenyMatcher, type DenyMatcher } from './matcher.ts'
export * from './model.ts'
export { createFileDenyListStore, type DenyListStore, writeFileAtomic } from './store.ts'

/** 403 access_denied like any other (same body); the audit line adds `denied_by: denylist`. */
export class DenyListed extends AccessDenied {
  readonly deniedBy = 'denylist'
  constructor() {
    super({ reason: 'denylisted' })
  }
}

export interface DenyList {
  /** Throws DenyListed when the caller or its whole issuer is denied now. */
  assertCallerAllowed(issuerId: string, subject: string): void
  /** Throws DenyListed when the rule is denied now. */
  assertRuleAllowed(ruleId: string): void
  entries(): readonly DenyEntry[]
  close(): void
}

/** A deny list that denies nothing (no `denylist` in the config). */
export const NO_DENY_LIST: DenyList = {
  assertCallerAllowed: () => undefined,
  assertRuleAllowed: () => undefined,
  entries: () => [],
  close: () => undefined,
}

/**
 * Reads the store once (throws DenyListError when it is invalid), then follows its changes: a good list
 * replaces the matcher and is handed to `onChange` (which drops the denied callers' cached credentials);
 * an unreadable or invalid one keeps the last good list and logs `denylist.reload_failed`.
 */
export async function startDenyList(
  store: DenyListStore,
  options: { logger: Logger; onChange?: (entries: readonly DenyEntry[]) => void; now?: () => Date },
): Promise<DenyList> {
  const { logger } = options
  const now = options.now ?? (() => new Date())
  let entries = await store.list()
  let matcher: DenyMatcher = createDenyMatcher(entries)
  logger.info(
    { event: 'denylist.loaded', store: store.description, entries: entries.length },
    'deny list loaded',
  )
  options.onChange?.(entries)
  const watch = store.watch(
    (next) => {
      entries = next
      matcher = createDenyMatcher(next)
      logger.info(
        {
          event: 'denylist.loaded',
          store: store.description,
          entries: next.length,
        },
        'deny list reloaded',
      )
      options.onChange?.(next)
    },
    (error: DenyListError) => {
      logger.error(
        { event: 'denylist.reload_failed', store: store.description, problems: error.problems },
        'deny list not reloaded; the last good list stays in force',
      )
    },
  )
  return {
    assertCallerAllowed(issuerId, subject) {
      if (matcher.caller(issuerId, subject, now())) throw new DenyListed()
    },
    assertRuleAllowed(ruleId) {
      if (matcher.rule(ruleId, now())) throw new DenyListed()
    },
    entries: () => entries,
    close: () => watch.close(),
  }
}
