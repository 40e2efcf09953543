// Compiles each rule once at load and proves it: templates well placed, containment, worst-case length ≤ 2048.
import type { ConfigProblem } from '../config/load.ts'
import type { Config, RuleConfig } from '../config/schema.ts'
import { type AccessSpec, customAccess, PRESETS } from './actions.ts'
import { type CompiledCondition, compileCondition } from './conditions.ts'
import { containmentViolations } from './containment.ts'
import { LONGEST_SOURCE_IP } from './ip.ts'
import { accessPointLocation, bucketLocation, buildPolicy, type OssLocation } from './policy.ts'
import { catastrophicRegexReason, compileAnchored } from './regex.ts'
import { parseTemplate, renderTemplate, type Template, type TemplatePart, type Variable } from './template.ts'
import type { CompiledRule } from './types.ts'
import { isSafeValue, VALUE_MAX_LENGTH, VALUE_RULE } from './values.ts'

/** STS refuses a Policy longer than 2048 characters. */
export const POLICY_MAX_LENGTH = 2048
/** STS ExternalId: 2-1224 of letters, digits and `_ + = , . @ : / -`. */
export const EXTERNAL_ID_MAX_LENGTH = 1224
export const EXTERNAL_ID_CHARS = /^[A-Za-z0-9_+=,.@:/-]*$/

/** A value as long as any variable may be: the worst case the length proof renders. */
const WORST_VALUE = 'a'.repeat(VALUE_MAX_LENGTH)

function staticValue(variable: Variable, rule: RuleConfig): string | null {
  if (variable.kind === 'issuer') return rule.issuer
  if (variable.kind === 'rule') return rule.id
  return null
}

/** Renders with every caller-supplied variable at its longest allowed value. */
const worstCase = (rule: RuleConfig) => (variable: Variable) => staticValue(variable, rule) ?? WORST_VALUE

/**
 * Checks the placement rules of `oss.prefix`: not starting with `/`, ending with `/`, no empty
 * segment, each variable alone in a whole segment (`…/${sub}/…`, so a value is always followed by
 * `/` and two values can never make the same prefix), and literal segments obeying the value rules
 * (so no wildcard and no `..`). Returns the problems and the literal text before the first variable.
 */
function checkPrefix(template: Template, rule: RuleConfig): { errors: string[]; literalPrefix: string } {
  const segments: TemplatePart[][] = [[]]
  for (const part of template.parts) {
    if (part.kind === 'variable') {
      segments[segments.length - 1]?.push(part)
      continue
    }
    const pieces = part.text.split('/')
    pieces.forEach((piece, i) => {
      if (i > 0) segments.push([])
      if (piece !== '') segments[segments.length - 1]?.push({ kind: 'literal', text: piece })
    })
  }
  const errors: string[] = []
  if (template.source.startsWith('/')) errors.push('must not start with "/"')
  if ((segments[segments.length - 1] ?? []).length !== 0) errors.push('must end with "/"')
  let literalPrefix = ''
  let seenVariable = false
  segments.slice(0, -1).forEach((segment, i) => {
    if (segment.length === 0) {
      if (i > 0) errors.push('must not contain an empty segment ("//")')
      return
    }
    const variables = segment.filter((p) => p.kind === 'variable')
    if (variables.length > 0) {
      if (segment.length !== 1)
        errors.push(`a variable must fill a whole path segment, as in "users/\${sub}/"`)
      const first = variables[0]
      const fixed = first?.kind === 'variable' ? staticValue(first.variable, rule) : null
      if (fixed !== null && !isSafeValue(fixed))
        errors.push(`"${fixed}" (a static variable) does not obey the value rule ${VALUE_RULE}`)
      seenVariable = true
      return
    }
    const text = segment.map((p) => (p.kind === 'literal' ? p.text : '')).join('')
    if (!isSafeValue(text))
      errors.push(`literal segment "${text}" must obey the value rule ${VALUE_RULE} (no wildcard, no "..")`)
    if (!seenVariable) literalPrefix += `${text}/`
  })
  return { errors, literalPrefix }
}

function checkStaticVariables(template: Template, rule: RuleConfig): string[] {
  return template.parts.flatMap((p) => {
    if (p.kind !== 'variable') return []
    const fixed = staticValue(p.variable, rule)
    return fixed !== null && !isSafeValue(fixed)
      ? [`"${fixed}" (a static variable) does not obey the value rule ${VALUE_RULE}`]
      : []
  })
}

export interface RuleCompilation {
  /** Null when the rule is structurally unusable; present (with its figure) even when it is too long. */
  rule: CompiledRule | null
  problems: ConfigProblem[]
}

/** Compiles one validated rule (`index` is its position, for problem paths). */
export function compileRule(rule: RuleConfig, index: number): RuleCompilation {
  const problems: ConfigProblem[] = []
  const at = (path: string, message: string) =>
    problems.push({ path: `rules[${index}]${path}`, message: `rule "${rule.id}": ${message}` })

  const when: CompiledCondition[] = []
  for (const [claim, condition] of Object.entries(rule.when)) {
    const compiled = compileCondition(claim, condition)
    if ('errors' in compiled) for (const e of compiled.errors) at(`.when.${claim}`, e)
    else when.push(compiled.condition)
  }

  let pattern: RegExp | null = null
  if (rule.pattern !== undefined) {
    const unsafe = catastrophicRegexReason(rule.pattern)
    if (unsafe) at('.pattern', unsafe)
    else {
      try {
        pattern = compileAnchored(rule.pattern)
      } catch (err) {
        at('.pattern', `invalid regular expression: ${(err as Error).message}`)
      }
    }
  }

  const parse = (source: string, path: string): Template | null => {
    const parsed = parseTemplate(source)
    if ('error' in parsed) {
      at(path, parsed.error)
      return null
    }
    return parsed.template
  }
  const prefix = parse(rule.oss.prefix, '.oss.prefix')
  let literalPrefix = ''
  if (prefix) {
    const checked = checkPrefix(prefix, rule)
    for (const e of checked.errors) at('.oss.prefix', e)
    literalPrefix = checked.literalPrefix
  }
  const sessionName = parse(rule.sessionName, '.sessionName')
  if (sessionName) for (const e of checkStaticVariables(sessionName, rule)) at('.sessionName', e)
  const externalId = rule.externalId === null ? null : parse(rule.externalId, '.externalId')
  if (externalId) {
    for (const e of checkStaticVariables(externalId, rule)) at('.externalId', e)
    const literal = externalId.parts.map((p) => (p.kind === 'literal' ? p.text : '')).join('')
    if (!EXTERNAL_ID_CHARS.test(literal))
      at(
        '.externalId',
        'literal text must be letters, digits and _ + = , . @ : / - (the STS ExternalId charset)',
      )
    const longest = renderTemplate(externalId, worstCase(rule)).length
    if (longest > EXTERNAL_ID_MAX_LENGTH)
      at(
        '.externalId',
        `worst-case ExternalId is ${longest} characters, over the STS limit of ${EXTERNAL_ID_MAX_LENGTH}`,
      )
    if (externalId.parts.every((p) => p.kind === 'literal' || staticValue(p.variable, rule) !== null)) {
      const fixed = renderTemplate(externalId, worstCase(rule))
      if (fixed.length < 2) at('.externalId', 'must be at least 2 characters (STS ExternalId)')
    }
  }

  let location: OssLocation
  let bucket: string
  let accessPoint: string | null = null
  if (rule.oss.accessPoint) {
    const ap = rule.oss.accessPoint
    location = accessPointLocation(rule.oss.region, ap.accountId, ap.name)
    bucket = ap.alias
    accessPoint = ap.name
  } else {
    bucket = rule.oss.bucket ?? ''
    location = bucketLocation(bucket)
  }
  if (rule.oss.endpoint !== null && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(rule.oss.endpoint))
    at(
      '.oss.endpoint',
      'must be an OSS host[:port] such as oss-cn-hangzhou-internal.aliyuncs.com (no scheme, no variables)',
    )

  let access: AccessSpec | null = null
  if (rule.oss.access !== undefined) access = PRESETS[rule.oss.access]
  else if (rule.oss.actions !== undefined) {
    const custom = customAccess(rule.oss.actions)
    if ('errors' in custom) for (const e of custom.errors) at(`.oss.actions[${e.index}]`, e.message)
    else access = custom.spec
  }

  if (problems.length > 0 || !prefix || !sessionName || access === null) return { rule: null, problems }

  // The proofs: render the worst case, check containment on it, and measure it.
  const worstPrefix = renderTemplate(prefix, worstCase(rule))
  const sourceIp = rule.conditions.sourceIp
  const policy = buildPolicy({
    location,
    prefix: worstPrefix,
    single: false,
    access,
    sourceIp: sourceIp === 'request' ? LONGEST_SOURCE_IP : sourceIp,
    secureTransport: rule.conditions.secureTransport,
  })
  for (const v of containmentViolations(policy, location, worstPrefix, access.bucketInfo))
    at('.oss.prefix', `containment proof failed: ${v}`)
  const worstCaseLength = JSON.stringify(policy).length
  if (worstCaseLength > POLICY_MAX_LENGTH)
    at(
      '',
      `worst-case policy is ${worstCaseLength} characters, over the STS limit of ${POLICY_MAX_LENGTH} (shorten the prefix, the actions or the conditions)`,
    )

  const compiled: CompiledRule = {
    id: rule.id,
    issuerId: rule.issuer,
    config: rule,
    when,
    pattern,
    prefix,
    literalPrefix,
    sessionName,
    externalId,
    access,
    location,
    bucket,
    accessPoint,
    region: rule.oss.region,
    endpoint: rule.oss.endpoint ?? `oss-${rule.oss.region}.aliyuncs.com`,
    worstCaseLength,
  }
  return { rule: compiled, problems }
}

/**
 * The load-time proofs as problems, for loadConfig to report with the schema's own. `raw` is the
 * rule as written: a `when` key the schema dropped (zod's record drops `__proto__`) is a problem,
 * since a condition that silently vanished would widen the rule.
 */
export function ruleProblems(rule: RuleConfig, index: number, raw?: unknown): ConfigProblem[] {
  const problems = compileRule(rule, index).problems
  const rawWhen = isRecord(raw) ? raw['when'] : undefined
  if (isRecord(rawWhen))
    for (const key of Object.keys(rawWhen))
      if (!Object.hasOwn(rule.when, key))
        problems.push({
          path: `rules[${index}].when.${key}`,
          message: `rule "${rule.id}": claim path "${key}" uses a reserved name`,
        })
  return problems
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Compiles every rule of a validated config; returns the rules and every problem found. */
export function compileAll(config: Config): { rules: CompiledRule[]; problems: ConfigProblem[] } {
  const rules: CompiledRule[] = []
  const problems: ConfigProblem[] = []
  config.rules.forEach((rule, index) => {
    const result = compileRule(rule, index)
    problems.push(...result.problems)
    if (result.rule) rules.push(result.rule)
  })
  return { rules, problems }
}
