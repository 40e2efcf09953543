// Discovery (issue 20, GET /v1/grants): the grants this caller may ask for, in rule order. Never calls STS.
import { AccessDenied } from '../errors.ts'
import { type CompiledRule, DENIAL_REASONS, matchingRules, renderGrant } from '../policies/index.ts'
import { type Caller, FORMATS, type Format } from '../types.ts'

/** One entry of design §14's `{grants: [...]}`: `bucket` for a bucket grant, `accessPoint` for an access point. */
export interface GrantSummary {
  rule: string
  bucket?: string
  accessPoint?: { name: string; alias: string }
  region: string
  /** Rendered for this caller. */
  prefix: string
  access: string
  durationSeconds: { default: number; max: number }
  formats: readonly Format[]
  /** Whether the caller may ask for it by name (`rule=`). */
  selectable: boolean
}

export type ListGrants = (caller: Caller, ctx: { clientIp: string }) => GrantSummary[]

function summarize(rule: CompiledRule, prefix: string): GrantSummary {
  const ap = rule.config.oss.accessPoint
  return {
    rule: rule.id,
    ...(ap ? { accessPoint: { name: ap.name, alias: ap.alias } } : { bucket: rule.bucket }),
    region: rule.region,
    prefix,
    access: rule.access.name,
    durationSeconds: { default: rule.config.durationSeconds.default, max: rule.config.durationSeconds.max },
    formats: FORMATS,
    selectable: rule.config.selectable === true,
  }
}

/**
 * Lists every rule of the caller's issuer that matches, rendered exactly as /v1/credentials would render
 * it (same templates, same value rules): a rule whose template cannot be rendered for this caller (an
 * unusable claim, no client address for a SourceIp rule) is left out, never named. The first entry is
 * what a plain request gets. Throws AccessDenied (403) when nothing is left, with the reason
 * /v1/credentials would give: the first rule's rendering refusal, or `no_rule_matched`.
 */
export function createListGrants(deps: { rules: readonly CompiledRule[] }): ListGrants {
  return (caller, ctx) => {
    const grants: GrantSummary[] = []
    let firstRefusal: AccessDenied | null = null
    for (const rule of matchingRules(deps.rules, caller)) {
      try {
        const grant = renderGrant(rule, caller, { format: 'json' }, ctx)
        grants.push(summarize(rule, grant.oss.prefix))
      } catch (err) {
        if (!(err instanceof AccessDenied)) throw err
        firstRefusal ??= err
      }
    }
    if (grants.length === 0) throw firstRefusal ?? new AccessDenied({ reason: DENIAL_REASONS.noRuleMatched })
    return grants
  }
}
