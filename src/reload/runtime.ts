// The runtime config: one immutable object holding everything a config decides (rules, issuers' verifier,
// the decision code), swapped in one assignment on reload. A request keeps the runtime that verified its
// token until it ends, so in-flight requests finish on the config they started with.
import { createTokenVerifier, type NonceStore, type TokenVerifier } from '../auth/index.ts'
import { cacheBudgets } from '../cache-budget.ts'
import type { Config } from '../config/index.ts'
import { compileRules } from '../config/index.ts'
import type { DenyList } from '../denylist/index.ts'
import type { Logger } from '../logger.ts'
import type { CompiledRule } from '../policies/index.ts'
import type { Audit } from '../services/audit.ts'
import {
  type CredentialIssuer,
  createIssueCredentials,
  type Decide,
  type IssueCredentials,
} from '../services/issue-credentials.ts'
import type { IssuedIndex } from '../services/issued-index.ts'
import { createListGrants, type ListGrants } from '../services/list-grants.ts'
import type { ShadowDecider } from '../services/shadow.ts'
import { createSimulate, ruleTarget, type Simulate } from '../services/simulate.ts'
import type { Caller, Grant } from '../types.ts'

export interface Runtime {
  /** 1 for the config read at start, +1 for each successful reload. */
  readonly generation: number
  /** sha256 hex of the config file's text ('' when the config did not come from a file). */
  readonly sha256: string
  readonly config: Config
  readonly rules: readonly CompiledRule[]
  /** The mark its verifier puts on every Caller it makes (Caller.verifiedBy). */
  readonly pin: object
  readonly verifier: TokenVerifier
  readonly issue: IssueCredentials
  readonly simulate: Simulate
  readonly listGrants: ListGrants
  /** `serve --shadow`: the candidate config's decisions, compared and never served. */
  readonly shadow: ShadowDecider | null
}

export interface RuntimeParts {
  logger: Logger
  sts: CredentialIssuer
  audit: Audit
  /** Kept across reloads, so a spent Alibaba login stays spent (issue 21). Default: one per runtime. */
  alibabaNonces?: NonceStore
}

/** Compiles a validated config into a runtime. Throws ConfigError (rules that do not prove). */
export function buildRuntime(
  config: Config,
  meta: { generation: number; sha256: string; shadow?: ShadowDecider | null },
  parts: RuntimeParts,
): Runtime {
  const rules = compileRules(config)
  const pin = Object.freeze({ generation: meta.generation })
  return Object.freeze({
    generation: meta.generation,
    sha256: meta.sha256,
    config,
    rules,
    pin,
    verifier: createTokenVerifier(config.issuers, {
      mark: pin,
      logger: parts.logger,
      stsProtocol: config.sts.protocol,
      cacheMaxEntries: config.cache.maxEntries,
      cacheMaxBytes: cacheBudgets(config.cache.maxMemoryMiB).verifiedTokens,
      ...(parts.alibabaNonces ? { alibabaNonces: parts.alibabaNonces } : {}),
    }),
    issue: createIssueCredentials({
      rules,
      sts: parts.sts,
      audit: parts.audit,
      minRemainingSeconds: config.cache.minRemainingSeconds,
    }),
    simulate: createSimulate({ rules }),
    listGrants: createListGrants({ rules }),
    shadow: meta.shadow ?? null,
  })
}

export interface RuntimeHolder {
  current(): Runtime
  /** Replaces the runtime in one assignment; requests already verified keep theirs. */
  swap(next: Runtime): void
  /** The verifier the app uses: the current runtime's, remembering which runtime verified each caller. */
  readonly verifier: TokenVerifier
  /** The credential use case the app uses: deny list first, then the caller's runtime, then the shadow. */
  issueCredentials(
    denyList: DenyList,
    parts: Pick<RuntimeParts, 'sts' | 'audit'> & { index?: IssuedIndex | undefined },
  ): IssueCredentials
  /** Discovery under the caller's runtime, after the deny list. */
  listGrants(denyList: DenyList): ListGrants
  readonly simulate: Simulate
}

export function createRuntimeHolder(initial: Runtime): RuntimeHolder {
  let current = initial
  // One target object per rule, shared by every index entry of that rule (not one per entry: issue 22).
  const targets = new WeakMap<CompiledRule, ReturnType<typeof ruleTarget>>()
  const targetOfRule = (rule: CompiledRule) => {
    let target = targets.get(rule)
    if (!target) {
      target = ruleTarget(rule)
      targets.set(rule, target)
    }
    return target
  }
  // Each runtime has its own verifier, which marks its Callers with the runtime's pin: a Caller belongs to
  // exactly one runtime, found by its mark (one map entry per runtime, none per caller: issue 22).
  const runtimes = new WeakMap<object, Runtime>([[initial.pin, initial]])
  const of = (caller: Caller) => (caller.verifiedBy && runtimes.get(caller.verifiedBy)) || current
  const verifier: TokenVerifier = {
    verify: (authorization) => current.verifier.verify(authorization),
    readiness: () => current.verifier.readiness(),
  }
  return {
    current: () => current,
    swap(next) {
      runtimes.set(next.pin, next)
      current = next
    },
    verifier,
    issueCredentials(denyList, parts) {
      const decide: Decide = (caller, ask, facts) => {
        // Before any rule, cache or STS: a denied caller costs nothing and is never served.
        denyList.assertCallerAllowed(caller.issuerId, caller.subject)
        const runtime = of(caller)
        let grant: Grant
        try {
          grant = runtime.issue.decide(caller, ask, facts)
        } catch (err) {
          runtime.shadow?.observe(caller, ask, facts, null, err)
          throw err
        }
        runtime.shadow?.observe(caller, ask, facts, grant, null)
        denyList.assertRuleAllowed(grant.ruleId)
        return grant
      }
      const targetOf = (caller: Caller, ruleId: string) => {
        const rule = of(caller).rules.find((r) => r.id === ruleId)
        return rule ? targetOfRule(rule) : undefined
      }
      return createIssueCredentials({
        decide,
        sts: parts.sts,
        audit: parts.audit,
        ...(parts.index ? { index: parts.index, targetOf } : {}),
        // Not a live setting: the same in every generation.
        minRemainingSeconds: current.config.cache.minRemainingSeconds,
      })
    },
    listGrants: (denyList) => (caller, ctx) => {
      denyList.assertCallerAllowed(caller.issuerId, caller.subject)
      return of(caller).listGrants(caller, ctx)
    },
    simulate: (caller, ask, checks, ctx) => of(caller).simulate(caller, ask, checks, ctx),
  }
}
