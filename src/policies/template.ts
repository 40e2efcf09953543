// Templates of design §4: `${sub}`, `${claim.NAME}`, `${issuer}`, `${rule}`, and `${alibaba.NAME}` (issue 21: the
// same as `${claim.alibaba.NAME}`, with its value rules and proofs); parsed once at load, rendered per request.
import { parseClaimPath } from './claims.ts'

export type Variable =
  | { kind: 'sub' }
  | { kind: 'issuer' }
  | { kind: 'rule' }
  | { kind: 'claim'; path: readonly string[]; name: string }

/** The fields of an Alibaba caller (issue 21) that `${alibaba.NAME}` may name: claims under `alibaba.`. */
export const ALIBABA_FIELDS = [
  'accountId',
  'arn',
  'identityType',
  'principalId',
  'roleName',
  'userName',
] as const

export type TemplatePart = { kind: 'literal'; text: string } | { kind: 'variable'; variable: Variable }

export interface Template {
  readonly source: string
  readonly parts: readonly TemplatePart[]
}

/** The name a variable is reported by in reasons and traces: `sub`, `issuer`, `rule` or the claim path. */
export function variableName(variable: Variable): string {
  return variable.kind === 'claim' ? variable.name : variable.kind
}

/** Parses a template; returns it or why it is refused (unterminated `${`, unknown variable, bad claim path). */
export function parseTemplate(source: string): { template: Template } | { error: string } {
  const parts: TemplatePart[] = []
  let literal = ''
  let i = 0
  while (i < source.length) {
    const open = source.indexOf('${', i)
    if (open === -1) {
      literal += source.slice(i)
      break
    }
    literal += source.slice(i, open)
    const close = source.indexOf('}', open + 2)
    if (close === -1) return { error: `unterminated "\${" in "${source}"` }
    const name = source.slice(open + 2, close)
    let variable: Variable
    if (name === 'sub' || name === 'issuer' || name === 'rule') variable = { kind: name }
    else if (name.startsWith('claim.')) {
      const path = parseClaimPath(name.slice('claim.'.length))
      if ('error' in path) return { error: path.error }
      variable = { kind: 'claim', path: path.segments, name: name.slice('claim.'.length) }
    } else if (name.startsWith('alibaba.')) {
      const field = name.slice('alibaba.'.length)
      if (!(ALIBABA_FIELDS as readonly string[]).includes(field))
        return {
          error: `unknown variable "\${${name}}"; \${alibaba.NAME} is one of ${ALIBABA_FIELDS.join(', ')}`,
        }
      variable = { kind: 'claim', path: ['alibaba', field], name }
    } else {
      return { error: `unknown variable "\${${name}}"; use \${sub}, \${claim.NAME}, \${issuer} or \${rule}` }
    }
    if (literal !== '') parts.push({ kind: 'literal', text: literal })
    literal = ''
    parts.push({ kind: 'variable', variable })
    i = close + 1
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal })
  return { template: { source, parts } }
}

/**
 * Renders a template: `value` supplies each variable's (already validated) text. Values are
 * inserted once and never re-expanded, so a claim holding `${sub}` stays that literal text.
 */
export function renderTemplate(template: Template, value: (variable: Variable) => string): string {
  let out = ''
  for (const part of template.parts) out += part.kind === 'literal' ? part.text : value(part.variable)
  return out
}

/** The variables a template uses, in order. */
export function templateVariables(template: Template): Variable[] {
  return template.parts.flatMap((p) => (p.kind === 'variable' ? [p.variable] : []))
}
