// The RAM policy grammar check STS applies to a session Policy (InvalidParameter.PolicyGrammar).

const CONDITION_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'IpAddress',
  'NotIpAddress',
])

const ACTION = /^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$/
const STATEMENT_KEYS = new Set(['Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'])

type Json = unknown
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isScalar = (v: Json) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

function stringList(value: Json, each: (s: string) => boolean): boolean {
  const items = typeof value === 'string' ? [value] : value
  return (
    Array.isArray(items) &&
    items.length > 0 &&
    items.every((item) => typeof item === 'string' && item.length > 0 && each(item))
  )
}

function conditionBlock(value: Json): boolean {
  if (!isObject(value) || Object.keys(value).length === 0) return false
  return Object.entries(value).every(([operator, clauses]) => {
    const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '')
    if (!CONDITION_OPERATORS.has(base) || !isObject(clauses) || Object.keys(clauses).length === 0)
      return false
    return Object.entries(clauses).every(
      ([key, v]) =>
        key.length > 0 && (isScalar(v) || (Array.isArray(v) && v.length > 0 && v.every(isScalar))),
    )
  })
}

function statement(value: Json, resource: boolean): boolean {
  if (!isObject(value)) return false
  if (!Object.keys(value).every((k) => STATEMENT_KEYS.has(k) || (resource && k === 'Principal'))) return false
  if (resource && !stringList(value['Principal'], () => true)) return false
  if (value['Effect'] !== 'Allow' && value['Effect'] !== 'Deny') return false
  const hasAction = 'Action' in value
  const hasNotAction = 'NotAction' in value
  const hasResource = 'Resource' in value
  const hasNotResource = 'NotResource' in value
  if (hasAction === hasNotAction || hasResource === hasNotResource) return false
  const actions = hasAction ? value['Action'] : value['NotAction']
  const resources = hasResource ? value['Resource'] : value['NotResource']
  if (!stringList(actions, (a) => ACTION.test(a))) return false
  if (!stringList(resources, () => true)) return false
  return !('Condition' in value) || conditionBlock(value['Condition'])
}

/**
 * True when `text` is a JSON RAM policy: `{"Version":"1","Statement":[…]}`, each statement with an
 * `Effect` of Allow/Deny, exactly one of Action/NotAction and of Resource/NotResource, and an optional
 * `Condition` block of known operators. Anything else (a Principal, unknown keys) fails the check.
 */
export function isPolicyGrammatical(text: string): boolean {
  let doc: Json
  try {
    doc = JSON.parse(text)
  } catch {
    return false
  }
  return isPolicyDocument(doc)
}

/**
 * The same check on an already parsed document. With `resource: true` (bucket and access point
 * policies) every statement must also name a `Principal`.
 */
export function isPolicyDocument(doc: unknown, options: { resource?: boolean } = {}): boolean {
  if (!isObject(doc)) return false
  if (!Object.keys(doc).every((k) => k === 'Version' || k === 'Statement')) return false
  if (doc['Version'] !== '1') return false
  const statements = doc['Statement']
  return (
    Array.isArray(statements) &&
    statements.length > 0 &&
    statements.every((s) => statement(s, options.resource === true))
  )
}
