// The credential path, in the order it happens: decide (rule → grant), then issue (cache → AssumeRole → audit).
import type { CompiledRule } from '../policies/index.ts'
import { renderGrant, selectRule } from '../policies/index.ts'
import type { CredentialCacheKey } from '../sts/index.ts'
import type { AssumeRoleInput, Caller, CredentialAsk, Grant, Issued, StsCredentials } from '../types.ts'
import type { Audit } from './audit.ts'
import type { IssuedIndex } from './issued-index.ts'
import { ruleTarget } from './simulate.ts'

export interface CredentialIssuer {
  issue(
    key: CredentialCacheKey,
    input: AssumeRoleInput,
  ): Promise<{ credentials: StsCredentials; cache: 'hit' | 'miss' }>
}

export interface IssueDeps {
  rules: readonly CompiledRule[]
  sts: CredentialIssuer
  audit: Audit
  minRemainingSeconds: number
  /** Remembers every credential served (hit or miss) for explain-denial; none: nothing is kept. */
  index?: IssuedIndex
}

export interface RequestFacts {
  requestId: string
  clientIp: string
}

export function assumeRoleInput(grant: Grant): AssumeRoleInput {
  return {
    roleArn: grant.roleArn,
    roleSessionName: grant.sessionName,
    policy: grant.policy,
    durationSeconds: grant.durationSeconds,
    ...(grant.externalId === null ? {} : { externalId: grant.externalId }),
  }
}

/**
 * A repeated caller's default grant (no narrowing, no duration asked) is rendered once: the verified-token
 * cache hands back the same frozen Caller for the same token, so a WeakMap on it holds one grant per rule
 * and lets it go with the Caller. Narrowed asks and `sourceIp: request` rules (the grant carries the
 * client's address) are rendered every time, so nothing a caller sends can grow this memo.
 */
function memoizable(rule: CompiledRule, ask: CredentialAsk): boolean {
  return (
    ask.prefix === undefined &&
    ask.access === undefined &&
    ask.durationSeconds === undefined &&
    rule.config.conditions.sourceIp !== 'request'
  )
}

/**
 * Writes one served credential into the index: who got it, under which rule, and what it grants. A
 * repeated caller (the same frozen Caller from the verified-token cache) served the same cached
 * credentials object under the same rule is already there: that is skipped without a write or an await
 * (about 1.5 µs per cache hit, measured), except every 64th time, which touches the entry so a hot
 * credential stays recent in the index's LRU.
 */
function indexer(deps: IssueDeps): ((caller: Caller, issued: Issued) => Promise<void> | undefined) | null {
  const { index } = deps
  if (!index) return null
  const targets = new Map(deps.rules.map((rule) => [rule.id, ruleTarget(rule)]))
  const recorded = new WeakMap<StsCredentials, { caller: Caller; rule: string; hits: number }>()
  return (caller, { grant, credentials }) => {
    const known = recorded.get(credentials)
    if (known && known.caller === caller && known.rule === grant.ruleId && ++known.hits % 64 !== 0)
      return undefined
    const target = targets.get(grant.ruleId)
    if (!target) return undefined
    if (!known || known.caller !== caller || known.rule !== grant.ruleId)
      recorded.set(credentials, { caller, rule: grant.ruleId, hits: 0 })
    return index.record({
      accessKeyId: credentials.accessKeyId,
      issuer: caller.issuer,
      subject: caller.subject,
      rule: grant.ruleId,
      target,
      prefix: grant.oss.prefix,
      access: grant.oss.access,
      policy: grant.policy,
      policySha256: grant.policySha256,
      expiration: credentials.expiration,
    })
  }
}

export function createIssueCredentials(deps: IssueDeps) {
  const defaultGrants = new WeakMap<Caller, Map<string, Grant>>()
  const remember = indexer(deps)
  return {
    /** Chooses the rule and renders the grant. Throws AccessDenied (403) or InvalidRequest (400). */
    decide(caller: Caller, ask: CredentialAsk, facts: RequestFacts): Grant {
      const { rule } = selectRule(deps.rules, caller, ask.rule)
      if (!memoizable(rule, ask)) return renderGrant(rule, caller, ask, { clientIp: facts.clientIp })
      let grants = defaultGrants.get(caller)
      const known = grants?.get(rule.id)
      if (known) return known
      const grant = renderGrant(rule, caller, ask, { clientIp: facts.clientIp })
      Object.freeze(grant.oss)
      Object.freeze(grant)
      if (!grants) {
        grants = new Map()
        defaultGrants.set(caller, grants)
      }
      grants.set(rule.id, grant)
      return grant
    },

    /** Serves the grant from the cache or one AssumeRole, and writes the audit line. Throws Upstream*. */
    async issue(caller: Caller, grant: Grant, facts: RequestFacts): Promise<Issued> {
      const key: CredentialCacheKey = {
        issuerId: grant.issuerId,
        subject: caller.subject,
        roleArn: grant.roleArn,
        sessionName: grant.sessionName,
        policySha256: grant.policySha256,
        externalId: grant.externalId,
        durationSeconds: grant.durationSeconds,
      }
      const { credentials, cache } = await deps.sts.issue(key, assumeRoleInput(grant))
      const refreshAfter = new Date(credentials.expiration.getTime() - deps.minRemainingSeconds * 1000)
      const issued: Issued = { grant, credentials, cache, refreshAfter }
      deps.audit.issued(caller, issued, facts)
      const recording = remember?.(caller, issued)
      if (recording) await recording
      return issued
    },
  }
}

export type IssueCredentials = ReturnType<typeof createIssueCredentials>
