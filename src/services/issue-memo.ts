// The credential path's performance memos behind one port: default grants per verified caller, and
// response bodies per (grant, credentials, format). Both are keyed on object identity and let go with it.
import type { CompiledRule } from '../policies/index.ts'
import type { Caller, CredentialAsk, Format, Grant, Issued, StsCredentials } from '../types.ts'

export interface IssueMemo {
  /**
   * The grant `render` builds for `caller` under `rule`, rendered once per (caller, rule) when `ask` is a
   * plain request; narrowed asks and `sourceIp: request` rules are rendered every time.
   */
  grant(rule: CompiledRule, caller: Caller, ask: CredentialAsk, render: () => Grant): Grant
  /** The body `build` serialises for `issued` in `format`, built once while the same credentials are served. */
  body(format: Format, issued: Issued, build: () => string): string
}

/**
 * A repeated caller's default grant is rendered once: the verified-token cache hands back the same
 * frozen Caller for the same token, so a WeakMap on it holds one grant per rule and lets it go with the
 * Caller. Nothing a caller sends can grow it: asks with narrowing or a duration are never memoized, and
 * neither are grants that carry the client's address.
 */
function memoizable(rule: CompiledRule, ask: CredentialAsk): boolean {
  return (
    ask.prefix === undefined &&
    ask.access === undefined &&
    ask.durationSeconds === undefined &&
    rule.config.conditions.sourceIp !== 'request'
  )
}

export function createIssueMemo(): IssueMemo {
  const grants = new WeakMap<Caller, Map<string, Grant>>()
  const bodies = new WeakMap<Grant, { credentials: StsCredentials; format: Format; json: string }>()
  return {
    grant(rule, caller, ask, render) {
      if (!memoizable(rule, ask)) return render()
      let byRule = grants.get(caller)
      const known = byRule?.get(rule.id)
      if (known) return known
      const grant = render()
      Object.freeze(grant.oss)
      Object.freeze(grant)
      if (!byRule) {
        byRule = new Map()
        grants.set(caller, byRule)
      }
      byRule.set(rule.id, grant)
      return grant
    },
    body(format, issued, build) {
      const slot = bodies.get(issued.grant)
      if (slot && slot.credentials === issued.credentials && slot.format === format) return slot.json
      const json = build()
      bodies.set(issued.grant, { credentials: issued.credentials, format, json })
      return json
    },
  }
}

/** No memo: every grant and body is built anew (tests that swap the renderer use it). */
export const NO_MEMO: IssueMemo = {
  grant: (_rule, _caller, _ask, render) => render(),
  body: (_format, _issued, build) => build(),
}
