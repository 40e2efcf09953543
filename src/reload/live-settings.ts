// Which settings a reload may change. Rules and issuers are read per request through the runtime; everything
// else (listen address, limits, cache size, console, deny-list file, STS client) is built once at start.
import type { Config } from '../config/index.ts'

export const LIVE_KEYS: readonly (keyof Config)[] = ['issuers', 'rules']

function leafChanges(before: unknown, after: unknown, path: string, out: string[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (isObject(before) && isObject(after)) {
    const b = before as Record<string, unknown>
    const a = after as Record<string, unknown>
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)]))
      leafChanges(b[key], a[key], path === '' ? key : `${path}.${key}`, out)
    return
  }
  out.push(`${path}: ${JSON.stringify(before) ?? '(unset)'} → ${JSON.stringify(after) ?? '(unset)'}`)
}

/** Every setting outside LIVE_KEYS that differs, as `server.port: 8080 → 9090`. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  const out: string[] = []
  const keys = new Set([...Object.keys(running), ...Object.keys(next)] as (keyof Config)[])
  for (const key of keys) {
    if (!LIVE_KEYS.includes(key)) leafChanges(running[key], next[key], key, out)
  }
  return out
}

/**
 * A cache-key predicate for what a reload retires: entries of a rule or issuer that is gone or whose
 * config changed (its grant may differ in a way the policy hash does not show, e.g. a role's trust).
 */
export function retiredByReload(running: Config, next: Config) {
  const changed = <T extends { id: string }>(before: readonly T[], after: readonly T[]) => {
    const now = new Map(after.map((x) => [x.id, JSON.stringify(x)]))
    return new Set(before.filter((x) => now.get(x.id) !== JSON.stringify(x)).map((x) => x.id))
  }
  const rules = changed(running.rules, next.rules)
  const issuers = changed(running.issuers, next.issuers)
  return (key: { issuerId: string; ruleId?: string }) =>
    issuers.has(key.issuerId) || (key.ruleId !== undefined && rules.has(key.ruleId))
}
