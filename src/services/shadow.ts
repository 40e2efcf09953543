// `serve --shadow`: every request is also decided under a candidate config, compared with the live decision,
// logged when it differs and counted. Never served, never sent to STS.
import type { Config } from '../config/index.ts'
import { compileRules, issuerUrl } from '../config/index.ts'
import { AccessDenied, InvalidRequest } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { type CompiledRule, renderGrant, selectRule } from '../policies/index.ts'
import type { Caller, CredentialAsk, Grant } from '../types.ts'
import { compareGrants, type GrantOutcome } from './grant-diff.ts'

export interface ShadowDecider {
  /**
   * Decides the caller's request under the candidate and compares it with the live outcome: `grant`
   * when the live config granted, else the live `error` (only access denials are compared).
   */
  observe(
    caller: Caller,
    ask: CredentialAsk,
    facts: { clientIp: string; requestId?: string },
    grant: Grant | null,
    error: unknown,
  ): void
}

export interface ShadowCounter {
  inc(outcome: GrantOutcome): void
}

/** Maps a verified caller to the candidate's issuer with the same `iss` (ids may differ between configs). */
export function callerUnder(config: Config, caller: Caller): Caller | null {
  const issuer = config.issuers.find((i) => issuerUrl(i) === caller.issuer)
  if (!issuer) return null
  return issuer.id === caller.issuerId ? caller : { ...caller, issuerId: issuer.id }
}

/** The grant under `rules`, or null when they deny (a 403, or a 400 only this config raises). */
export function decideUnder(
  config: Config,
  rules: readonly CompiledRule[],
  caller: Caller,
  ask: CredentialAsk,
  clientIp: string,
): Grant | null {
  const own = callerUnder(config, caller)
  if (!own) return null
  try {
    const { rule } = selectRule(rules, own, ask.rule)
    return renderGrant(rule, own, ask, { clientIp })
  } catch (err) {
    if (err instanceof AccessDenied || err instanceof InvalidRequest) return null
    throw err
  }
}

const side = (g: Grant | null) =>
  g === null
    ? null
    : { rule: g.ruleId, access: g.oss.access, prefix: g.oss.prefix, policy_sha256: g.policySha256 }

/** Compiles the candidate (throws ConfigError) and returns the decider. */
export function createShadow(
  candidate: Config,
  deps: { logger: Logger; counter: ShadowCounter },
): ShadowDecider {
  const rules = compileRules(candidate)
  return {
    observe(caller, ask, facts, grant, error) {
      // A live 400 or an upstream failure is not a decision: only grants and denials are compared.
      if (grant === null && !(error instanceof AccessDenied)) return
      let shadow: Grant | null
      try {
        shadow = decideUnder(candidate, rules, caller, ask, facts.clientIp)
      } catch {
        shadow = null
      }
      const change = compareGrants(grant, shadow)
      deps.counter.inc(change.outcome)
      if (change.outcome === 'same') return
      deps.logger.info(
        {
          event: 'shadow.decision',
          ...(facts.requestId === undefined ? {} : { request_id: facts.requestId }),
          outcome: change.outcome,
          iss: caller.issuer,
          live: side(grant),
          shadow: side(shadow),
        },
        'shadow decision differs',
      )
    },
  }
}
