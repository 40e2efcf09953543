// The compiled form of a rule: everything parsed, proved and precomputed once at config load.
import type { AccessSpec } from './actions.ts'
import type { CompiledCondition } from './conditions.ts'
import type { OssLocation } from './policy.ts'
import type { Pattern } from './regex.ts'
import type { RuleSpec } from './spec.ts'
import type { Template } from './template.ts'

export interface CompiledRule {
  readonly id: string
  /** The issuers[].id whose callers this rule may match. */
  readonly issuerId: string
  /** May a caller ask for it by name (`rule=`)? */
  readonly selectable: boolean
  readonly config: RuleSpec
  readonly when: readonly CompiledCondition[]
  /** The rule's stricter value pattern, anchored; null for the default value rule alone. */
  readonly pattern: Pattern | null
  readonly prefix: Template
  /** The literal text of `oss.prefix` before its first variable (the whole prefix when it has none). */
  readonly literalPrefix: string
  readonly sessionName: Template
  readonly externalId: Template | null
  readonly access: AccessSpec
  readonly location: OssLocation
  /** Bucket name, or the access point alias. */
  readonly bucket: string
  readonly accessPoint: string | null
  readonly region: string
  readonly endpoint: string
  /** The minified policy length with every variable at its longest value and the longest SourceIp. */
  readonly worstCaseLength: number
}

/** One rule's line in a decision trace. `reason` never quotes a claim value. */
export interface RuleTrace {
  id: string
  matched: boolean
  reason: string
}
