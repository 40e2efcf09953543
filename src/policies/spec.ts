// What the policy engine reads of a rule, and how it reports a problem: its own types, so policies/ never imports config/.
import type { AccessPreset } from './actions.ts'

export type Scalar = string | number | boolean

/** One `when` entry: every operator given must hold. */
export interface ConditionSpec {
  readonly equals?: Scalar | undefined
  readonly in?: readonly Scalar[] | undefined
  readonly contains?: Scalar | undefined
  readonly matches?: string | undefined
  readonly exists?: boolean | undefined
}

/** A rule as validated by the loader (design §3), defaults applied. */
export interface RuleSpec {
  readonly id: string
  /** The issuers[].id whose callers the rule may match. */
  readonly issuer: string
  /** May a caller ask for this rule by name (`rule=`)? Default false (design §14). */
  readonly selectable: boolean
  readonly when: Readonly<Record<string, ConditionSpec>>
  readonly roleArn: string
  readonly externalId: string | null
  readonly sessionName: string
  readonly pattern?: string | undefined
  readonly oss: {
    readonly bucket?: string | undefined
    readonly accessPoint?:
      | { readonly name: string; readonly alias: string; readonly accountId: string }
      | undefined
    readonly region: string
    readonly endpoint: string | null
    readonly prefix: string
    readonly access?: AccessPreset | undefined
    readonly actions?: readonly string[] | undefined
  }
  readonly conditions: {
    readonly sourceIp: 'request' | readonly string[] | null
    readonly secureTransport: boolean
  }
  readonly durationSeconds: { readonly default: number; readonly max: number }
}

/** A load-time problem of one rule: `path` as `rules[2].oss.prefix`, `message` naming the rule id. */
export interface RuleProblem {
  path: string
  message: string
}
