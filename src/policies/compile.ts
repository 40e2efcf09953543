// Compiles each rule once at load and proves it: templates well placed, containment, worst-case length ≤ 2048.
import { type AccessSpec, customAccess, PRESETS } from './actions.ts'
import { type CompiledCondition, compileCondition } from './conditions.ts'
import { containmentViolations } from './containment.ts'
import { LONGEST_SOURCE_IP } from './ip.ts'
import { accessPointLocation, bucketLocation, buildPolicy, type OssLocation } from './policy.ts'
import { compilePattern, type Pattern } from './regex.ts'
import type { RuleProblem, RuleSpec } from './spec.ts'
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

/** Records one problem of the rule being compiled: `path` relative to the rule (`.oss.prefix`). */
type Report = (path: string, message: string) => void

function staticValue(variable: Variable, rule: RuleSpec): string | null {
  if (variable.kind === 'issuer') return rule.issuer
  if (variable.kind === 'rule') return rule.id
  return null
}

/** Renders with every caller-supplied variable at its longest allowed value. */
const worstCase = (rule: RuleSpec) => (variable: Variable) => staticValue(variable, rule) ?? WORST_VALUE

/** The prefix template cut at each `/`: one list of parts per path segment (the last one after the final `/`). */
function prefixSegments(template: Template): TemplatePart[][] {
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
  return segments
}

/** The message for a prefix whose first segment holds a variable (design §14, "Prefixes start literal"). */
export const LITERAL_FIRST =
  'must start with a literal folder before the first variable, as in "users/${sub}/": a claim value must never choose the top-level folder'

/**
 * Checks the placement rules of `oss.prefix`: not starting with `/`, a first segment of literal
 * text only, ending with `/`, no empty segment, each variable alone in a whole segment
 * (`…/${sub}/…`, so a value is always followed by `/` and two values can never make the same
 * prefix), and literal segments obeying the value rules (so no wildcard and no `..`). Returns the
 * problems and the literal text before the first variable.
 */
function checkPrefix(template: Template, rule: RuleSpec): { errors: string[]; literalPrefix: string } {
  const segments = prefixSegments(template)
  const errors: string[] = []
  if (template.source.startsWith('/')) errors.push('must not start with "/"')
  else if (segments[0]?.some((p) => p.kind === 'variable')) errors.push(LITERAL_FIRST)
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

function checkStaticVariables(template: Template, rule: RuleSpec): string[] {
  return template.parts.flatMap((p) => {
    if (p.kind !== 'variable') return []
    const fixed = staticValue(p.variable, rule)
    return fixed !== null && !isSafeValue(fixed)
      ? [`"${fixed}" (a static variable) does not obey the value rule ${VALUE_RULE}`]
      : []
  })
}

/** Step 1: the `when` conditions and the stricter value `pattern`. */
function compileMatching(rule: RuleSpec, at: Report): { when: CompiledCondition[]; pattern: Pattern | null } {
  const when: CompiledCondition[] = []
  for (const [claim, condition] of Object.entries(rule.when)) {
    const compiled = compileCondition(claim, condition)
    if ('errors' in compiled) for (const e of compiled.errors) at(`.when.${claim}${e.at}`, e.message)
    else when.push(compiled.condition)
  }
  let pattern: Pattern | null = null
  if (rule.pattern !== undefined) {
    const compiled = compilePattern(rule.pattern)
    if ('error' in compiled) at('.pattern', compiled.error)
    else pattern = compiled.pattern
  }
  return { when, pattern }
}

/** Step 2b: the ExternalId template's charset, length (2-1224 at worst) and static variables. */
function checkExternalId(externalId: Template, rule: RuleSpec, at: Report): void {
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

interface Templates {
  prefix: Template | null
  literalPrefix: string
  sessionName: Template | null
  externalId: Template | null
}

/** Step 2: parses `oss.prefix`, `sessionName` and `externalId` and checks where their variables sit. */
function compileTemplates(rule: RuleSpec, at: Report): Templates {
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
  if (externalId) checkExternalId(externalId, rule, at)
  return { prefix, literalPrefix, sessionName, externalId }
}

interface Target {
  location: OssLocation
  bucket: string
  accessPoint: string | null
  endpoint: string
}

/** Step 3: where the grant points (bucket or access point, endpoint for clients). */
function compileTarget(rule: RuleSpec, at: Report): Target {
  const { oss } = rule
  if (oss.endpoint !== null && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(oss.endpoint))
    at(
      '.oss.endpoint',
      'must be an OSS host[:port] such as oss-cn-hangzhou-internal.aliyuncs.com (no scheme, no variables)',
    )
  const endpoint = oss.endpoint ?? `oss-${oss.region}.aliyuncs.com`
  if (oss.accessPoint) {
    const ap = oss.accessPoint
    return {
      location: accessPointLocation(oss.region, ap.accountId, ap.name),
      bucket: ap.alias,
      accessPoint: ap.name,
      endpoint,
    }
  }
  const bucket = oss.bucket ?? ''
  return { location: bucketLocation(bucket), bucket, accessPoint: null, endpoint }
}

/** Step 4: what the grant allows — a preset or an `actions:` list (exactly one; the loader checks both-or-neither). */
function compileAccess(rule: RuleSpec, at: Report): AccessSpec | null {
  if (rule.oss.access !== undefined) return PRESETS[rule.oss.access]
  if (rule.oss.actions === undefined) return null
  const custom = customAccess(rule.oss.actions)
  if ('spec' in custom) return custom.spec
  for (const e of custom.errors) at(`.oss.actions[${e.index}]`, e.message)
  return null
}

/** Step 5, the proofs: renders the worst case, checks containment on it, and returns its length. */
function proveWorstCase(
  rule: RuleSpec,
  prefix: Template,
  target: Target,
  access: AccessSpec,
  at: Report,
): number {
  const worstPrefix = renderTemplate(prefix, worstCase(rule))
  const sourceIp = rule.conditions.sourceIp
  const policy = buildPolicy({
    location: target.location,
    prefix: worstPrefix,
    single: false,
    access,
    sourceIp: sourceIp === 'request' ? LONGEST_SOURCE_IP : sourceIp,
    secureTransport: rule.conditions.secureTransport,
  })
  for (const v of containmentViolations(policy, target.location, worstPrefix, access.bucketInfo))
    at('.oss.prefix', `containment proof failed: ${v}`)
  const worstCaseLength = JSON.stringify(policy).length
  if (worstCaseLength > POLICY_MAX_LENGTH)
    at(
      '',
      `worst-case policy is ${worstCaseLength} characters, over the STS limit of ${POLICY_MAX_LENGTH} (shorten the prefix, the actions or the conditions)`,
    )
  return worstCaseLength
}

export interface RuleCompilation {
  /** Null when the rule is structurally unusable; present (with its figure) even when it is too long. */
  rule: CompiledRule | null
  /** Every problem, each naming the rule id. */
  problems: RuleProblem[]
}

/** Compiles one validated rule (`index` is its position, for problem paths). */
export function compileRule(rule: RuleSpec, index: number): RuleCompilation {
  const problems: RuleProblem[] = []
  const at: Report = (path, message) =>
    problems.push({ path: `rules[${index}]${path}`, message: `rule "${rule.id}": ${message}` })
  const { when, pattern } = compileMatching(rule, at)
  const { prefix, literalPrefix, sessionName, externalId } = compileTemplates(rule, at)
  const target = compileTarget(rule, at)
  const access = compileAccess(rule, at)
  if (problems.length > 0 || !prefix || !sessionName || access === null) return { rule: null, problems }
  const worstCaseLength = proveWorstCase(rule, prefix, target, access, at)
  const compiled: CompiledRule = {
    id: rule.id,
    issuerId: rule.issuer,
    selectable: rule.selectable,
    config: rule,
    when,
    pattern,
    prefix,
    literalPrefix,
    sessionName,
    externalId,
    access,
    ...target,
    region: rule.oss.region,
    worstCaseLength,
  }
  return { rule: compiled, problems }
}

/** Compiles every rule; returns the compiled rules and every problem found (each naming its rule). */
export function compileAll(rules: readonly RuleSpec[]): { rules: CompiledRule[]; problems: RuleProblem[] } {
  const compiled: CompiledRule[] = []
  const problems: RuleProblem[] = []
  rules.forEach((rule, index) => {
    const result = compileRule(rule, index)
    problems.push(...result.problems)
    if (result.rule) compiled.push(result.rule)
  })
  return { rules: compiled, problems }
}
