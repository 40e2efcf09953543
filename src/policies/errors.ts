// The typed refusals of policies/: each is a 403 access_denied whose `reason` is a stable code for the log.
import { AccessDenied } from '../errors.ts'

/** Stable `reason` codes of the 403s this module throws (the log's `reason` field). */
export const DENIAL_REASONS = {
  noRuleMatched: 'no_rule_matched',
  requestedRuleNotMatched: 'requested_rule_not_matched',
  matchLimitExceeded: 'match_limit_exceeded',
  claimUnusable: 'claim_unusable',
  narrowingOutsideGrant: 'narrowing_outside_grant',
  narrowingGrantsNothing: 'narrowing_grants_nothing',
  accessWider: 'access_wider',
  sourceIpUnavailable: 'source_ip_unavailable',
} as const

/**
 * A claim cannot be used in a template (design §4). `reason` is `claim_unusable`; `claim` names the
 * variable (`sub`, or the claim path) and `why` says what is wrong. The value itself is never kept.
 */
export class ClaimUnusable extends AccessDenied {
  constructor(
    readonly claim: string,
    readonly why: string,
  ) {
    super({ reason: DENIAL_REASONS.claimUnusable })
  }
}
