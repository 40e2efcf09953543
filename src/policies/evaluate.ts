// A small RAM policy evaluator: Allow/Deny, Action/Resource wildcards, a few condition operators; explicit Deny wins.
import { globMatch } from './glob.ts'
import { cidrContains, parseIp } from './ip.ts'
import type { ConditionValue, PolicyDocument, PolicyStatement } from './policy.ts'

export interface EvaluationRequest {
  /** e.g. `oss:GetObject` (matched case-insensitively, as RAM does). */
  action: string
  /** e.g. `acs:oss:cn-hangzhou:1234567890123456:examplebucket/users/alice/a.jpg` (case-sensitive). */
  resource: string
  /** Condition keys (`acs:SourceIp`, `acs:SecureTransport`, `oss:Prefix`, …), looked up case-insensitively. */
  context: Record<string, string | string[]>
}

export interface Evaluation {
  decision: 'allow' | 'deny' | 'implicit-deny'
  /** Index of the deciding statement: the first matching Deny, else the first matching Allow; null for implicit deny. */
  statement: number | null
}

const asList = (v: ConditionValue | string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => String(x))

type Outcome = boolean | 'unknown'

function contextValues(context: EvaluationRequest['context'], key: string): string[] | undefined {
  const wanted = key.toLowerCase()
  for (const [k, v] of Object.entries(context))
    if (k.toLowerCase() === wanted) return typeof v === 'string' ? [v] : v
  return undefined
}

// Each operator: does any context value satisfy any condition value? 'unknown' when it cannot be decided.
const OPERATORS: Record<string, (actual: string[], expected: string[]) => Outcome> = {
  stringequals: (a, e) => a.some((x) => e.includes(x)),
  stringnotequals: (a, e) => a.every((x) => !e.includes(x)),
  stringequalsignorecase: (a, e) => a.some((x) => e.some((y) => y.toLowerCase() === x.toLowerCase())),
  stringlike: (a, e) => a.some((x) => e.some((p) => globMatch(p, x))),
  stringnotlike: (a, e) => a.every((x) => e.every((p) => !globMatch(p, x))),
  bool: (a, e) => a.some((x) => e.some((y) => y.toLowerCase() === x.toLowerCase())),
  ipaddress: (a, e) => {
    const ips = a.map(parseIp)
    if (ips.some((ip) => ip === null)) return 'unknown'
    return ips.some((ip) => ip !== null && e.some((c) => cidrContains(c, ip)))
  },
  notipaddress: (a, e) => {
    const ips = a.map(parseIp)
    if (ips.some((ip) => ip === null)) return 'unknown'
    return ips.every((ip) => ip !== null && e.every((c) => !cidrContains(c, ip)))
  },
}

/**
 * Whether a statement's Condition holds: every operator and every key must hold (AND), any of a
 * key's values may match (OR). A missing context key, an unparsable IP or an unknown operator make
 * it 'unknown', which fails closed: an Allow does not apply, a Deny does.
 */
function conditionHolds(statement: PolicyStatement, context: EvaluationRequest['context']): Outcome {
  let result: Outcome = true
  for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
    const test = OPERATORS[operator.toLowerCase()]
    for (const [key, expected] of Object.entries(entries)) {
      const actual = contextValues(context, key)
      const outcome: Outcome = !test || actual === undefined ? 'unknown' : test(actual, asList(expected))
      if (outcome === false) return false
      if (outcome === 'unknown') result = 'unknown'
    }
  }
  return result
}

/**
 * Evaluates `policy` for one request: explicit Deny wins, then any Allow, else implicit deny.
 * Principal is not evaluated (session policies have none). Throws nothing.
 */
export function evaluatePolicy(policy: PolicyDocument, request: EvaluationRequest): Evaluation {
  let allow: number | null = null
  const statements = Array.isArray(policy.Statement) ? policy.Statement : []
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i]
    if (!statement) continue
    const actionMatches = asList(statement.Action).some((p) => globMatch(p, request.action, true))
    const resourceMatches = asList(statement.Resource).some((p) => globMatch(p, request.resource))
    if (!actionMatches || !resourceMatches) continue
    const holds = conditionHolds(statement, request.context)
    if (statement.Effect === 'Deny' && holds !== false) return { decision: 'deny', statement: i }
    if (statement.Effect === 'Allow' && holds === true && allow === null) allow = i
  }
  return allow === null
    ? { decision: 'implicit-deny', statement: null }
    : { decision: 'allow', statement: allow }
}
