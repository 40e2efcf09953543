// The credential path, in the order it happens: the ask's shape (400), the rule and its grant (403), the
// caller's per-subject budget (429), the cache or one AssumeRole (502/503), then the audit line.
import type { CompiledRule, OssTarget } from '../policies/index.ts'
import { assertAskShape, renderGrant, selectRule, sourceIdentityFor } from '../policies/index.ts'
import type { CredentialCacheKey } from '../sts/index.ts'
import type {
  AssumeRoleInput,
  Caller,
  CredentialAsk,
  CredentialSource,
  Grant,
  Issued,
  StsCredentials,
} from '../types.ts'
import type { Audit } from './audit.ts'
import { createIssueMemo, type IssueMemo, indexedWith, markIndexed, packedPolicyOf } from './issue-memo.ts'
import type { IssuedIndex } from './issued-index.ts'
import { ruleTarget } from './simulate.ts'

export interface CredentialIssuer {
  issue(
    key: CredentialCacheKey,
    input: AssumeRoleInput,
  ): Promise<{ credentials: StsCredentials; cache: 'hit' | 'miss'; source?: CredentialSource }>
}

/** Renders a grant; the default is `renderGrant` (tests swap it to plant a broken renderer). */
export type GrantRenderer = typeof renderGrant

/** The rule decision for a well-formed ask. Throws AccessDenied (403) or InvalidRequest (400). */
export type Decide = (caller: Caller, ask: CredentialAsk, facts: RequestFacts) => Grant

export interface IssueDeps {
  /** The rules, decided first match wins: the default decision. */
  rules?: readonly CompiledRule[]
  /** A composed decision in place of `rules` (the live config: deny list, reload pinning, shadow). */
  decide?: Decide
  sts: CredentialIssuer
  audit: Audit
  minRemainingSeconds: number
  memo?: IssueMemo
  render?: GrantRenderer
  /** Remembers every credential served (hit or miss) for explain-denial; none: nothing is kept. */
  index?: IssuedIndex
  /** Where a rule's grants live, for the index; default: looked up in `rules`. */
  targetOf?: (caller: Caller, ruleId: string) => OssTarget | undefined
}

/** The caller's per-subject budget for this request: throws RateLimited (429) when it is spent. */
export interface SubjectBudget {
  assertWithin(): void
}

export interface RequestFacts {
  requestId: string
  clientIp: string
}

export interface IssueFacts extends RequestFacts {
  budget: SubjectBudget
}

/** The AssumeRole parameters for `grant`, with the SourceIdentity of `subject` (the verified caller). */
export function assumeRoleInput(grant: Grant, subject: string): AssumeRoleInput {
  return {
    roleArn: grant.roleArn,
    roleSessionName: grant.sessionName,
    // Read only when STS is called (a cache miss): a memoized grant unpacks its Policy when read.
    get policy() {
      return grant.policy
    },
    durationSeconds: grant.durationSeconds,
    ...(grant.externalId === null ? {} : { externalId: grant.externalId }),
    sourceIdentity: sourceIdentityFor(subject),
  }
}

/** The cache key of design §8: two callers never share one credential. */
export function cacheKeyOf(caller: Caller, grant: Grant): CredentialCacheKey {
  return {
    issuerId: grant.issuerId,
    subject: caller.subject,
    roleArn: grant.roleArn,
    sessionName: grant.sessionName,
    policySha256: grant.policySha256,
    externalId: grant.externalId,
    durationSeconds: grant.durationSeconds,
    ruleId: grant.ruleId,
  }
}

/** First match wins over `rules`, the grant rendered by `render` and memoized by `memo`. */
export function createRuleDecision(
  rules: readonly CompiledRule[],
  memo: IssueMemo,
  render: GrantRenderer = renderGrant,
): Decide {
  return (caller, ask, facts) => {
    const { rule } = selectRule(rules, caller, ask.rule)
    return memo.grant(rule, caller, ask, () => render(rule, caller, ask, { clientIp: facts.clientIp }))
  }
}

/**
 * Writes one served credential into the index: who got it, under which rule, and what it grants. The
 * same cached credentials object served again under the same rule is already there (its cache key names
 * the issuer and subject): that is skipped without a write or an await (about 1.5 µs per cache hit,
 * measured), except every 64th such hit, which touches the entry so hot credentials stay recent in the
 * index's LRU. A memoized grant remembers the credentials it was last indexed with; for a grant rendered
 * anew, the rule id is remembered per credentials, the config's own string (issue 22).
 */
function indexer(deps: IssueDeps): ((caller: Caller, issued: Issued) => Promise<void> | undefined) | null {
  const { index } = deps
  if (!index) return null
  const targets = new Map((deps.rules ?? []).map((rule) => [rule.id, ruleTarget(rule)]))
  const targetOf = deps.targetOf ?? ((_caller: Caller, ruleId: string) => targets.get(ruleId))
  // Grants rendered anew (narrowed asks) have no memo of their own: for them, a map by credentials.
  const recorded = new WeakMap<StsCredentials, string>()
  let skipped = 0
  return (caller, { grant, credentials }) => {
    const last = indexedWith(grant)
    const known = last === undefined ? recorded.get(credentials) === grant.ruleId : last === credentials
    if (known && ++skipped % 64 !== 0) return undefined
    const target = targetOf(caller, grant.ruleId)
    if (!target) return undefined
    if (last === undefined) recorded.set(credentials, grant.ruleId)
    else markIndexed(grant, credentials)
    const packed = packedPolicyOf(grant)
    return index.record(
      {
        accessKeyId: credentials.accessKeyId,
        issuer: caller.issuer,
        subject: caller.subject,
        rule: grant.ruleId,
        target,
        prefix: grant.oss.prefix,
        access: grant.oss.access,
        // Read only by a store that needs the text: the memory index keeps the grant's packed Policy.
        get policy() {
          return grant.policy
        },
        policySha256: grant.policySha256,
        expiration: credentials.expiration,
      },
      packed,
    )
  }
}

export function createIssueCredentials(deps: IssueDeps) {
  const memo = deps.memo ?? createIssueMemo()
  if (!deps.decide && !deps.rules) throw new TypeError('createIssueCredentials needs rules or decide')
  const decide = deps.decide ?? createRuleDecision(deps.rules ?? [], memo, deps.render)
  const remember = indexer(deps)

  /** Credentials for `caller`: decide, spend the budget, cache or AssumeRole, audit, index. */
  async function issueCredentials(caller: Caller, ask: CredentialAsk, facts: IssueFacts): Promise<Issued> {
    assertAskShape(ask)
    const grant = decide(caller, ask, facts)
    facts.budget.assertWithin()
    const { credentials, cache, source } = await deps.sts.issue(
      cacheKeyOf(caller, grant),
      assumeRoleInput(grant, caller.subject),
    )
    const refreshAfter = new Date(credentials.expiration.getTime() - deps.minRemainingSeconds * 1000)
    const issued: Issued = { grant, credentials, cache, refreshAfter, ...(source ? { source } : {}) }
    deps.audit.issued(caller, issued, facts)
    const recording = remember?.(caller, issued)
    if (recording) await recording
    return issued
  }

  return { issueCredentials, decide, memo }
}

export type IssueCredentials = ReturnType<typeof createIssueCredentials>
