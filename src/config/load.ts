// loadConfig: YAML text or a plain object → a validated Config, or one ConfigError listing every problem.
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { hostOf, isLoopbackHost } from './loopback.ts'
import { type Config, configSchema } from './schema.ts'

export interface ConfigProblem {
  /** Where, as `rules[2].oss.prefix`; empty for the document itself. */
  path: string
  message: string
}

/** Thrown when a config is invalid. `problems` has every problem found, not just the first. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID'
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n'),
    )
    this.name = 'ConfigError'
  }
}

/** `['rules', 2, 'oss', 'prefix']` → `rules[2].oss.prefix`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message
    if (issue.code === 'unrecognized_keys')
      message = `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
    return { path: formatPath(issue.path), message }
  })
}

type Raw = Record<string, unknown>
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/** Checks that span fields; run on the raw input so they report even when other fields are invalid. */
function crossProblems(raw: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const duplicates = (items: unknown[], where: string) => {
    const seen = new Map<string, number>()
    items.forEach((item, i) => {
      if (!isObject(item) || typeof item['id'] !== 'string') return
      const first = seen.get(item['id'])
      if (first === undefined) seen.set(item['id'], i)
      else
        problems.push({
          path: `${where}[${i}].id`,
          message: `duplicate id "${item['id']}" (also ${where}[${first}])`,
        })
    })
  }
  const issuers = list(raw['issuers'])
  const rules = list(raw['rules'])
  duplicates(issuers, 'issuers')
  duplicates(rules, 'rules')
  const issuerIds = new Set(
    issuers
      .filter(isObject)
      .map((i) => i['id'])
      .filter((id) => typeof id === 'string'),
  )
  rules.forEach((rule, i) => {
    if (isObject(rule) && typeof rule['issuer'] === 'string' && !issuerIds.has(rule['issuer'])) {
      problems.push({ path: `rules[${i}].issuer`, message: `unknown issuer "${rule['issuer']}"` })
    }
  })
  const consoleSection = raw['console']
  if (
    isObject(consoleSection) &&
    typeof consoleSection['issuer'] === 'string' &&
    !issuerIds.has(consoleSection['issuer'])
  ) {
    problems.push({ path: 'console.issuer', message: `unknown issuer "${consoleSection['issuer']}"` })
  }
  const sts = raw['sts']
  if (isObject(sts) && sts['protocol'] === 'http') {
    const endpoint = typeof sts['endpoint'] === 'string' ? sts['endpoint'] : 'sts.cn-hangzhou.aliyuncs.com'
    if (!isLoopbackHost(hostOf(endpoint))) {
      problems.push({
        path: 'sts.protocol',
        message: 'http is refused unless sts.endpoint is a loopback host',
      })
    }
  }
  const server = raw['server']
  if (isObject(server) && typeof server['trustProxyHops'] === 'boolean') {
    // zod already reports the type; this message says why.
    problems.push({
      path: 'server.trustProxyHops',
      message:
        'true would trust every X-Forwarded-For hop and let anyone bypass per-IP limits; give the number of proxies',
    })
  }
  return problems
}

/** Parses YAML text into a plain value; syntax errors and duplicate keys become problems. */
export function parseConfigText(text: string): { value: unknown; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      problems: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })),
    }
  }
  return { value: doc.toJS({ maxAliasCount: 50 }), problems: [] }
}

/**
 * Validates a config given as YAML text or as an already-parsed object, applies the documented
 * defaults, and throws one `ConfigError` listing every problem with its path.
 */
export function loadConfig(input: string | unknown): Config {
  let value: unknown = input
  if (typeof input === 'string') {
    const parsed = parseConfigText(input)
    if (parsed.problems.length > 0) throw new ConfigError(parsed.problems)
    value = parsed.value
  }
  if (!isObject(value)) throw new ConfigError([{ path: '', message: 'the config must be a mapping' }])
  const result = configSchema.safeParse(value)
  const cross = crossProblems(value)
  // A cross-field message that explains a field replaces zod's generic one for that field.
  const explained = new Set(cross.map((p) => p.path))
  const schemaProblems = result.success ? [] : zodProblems(result.error).filter((p) => !explained.has(p.path))
  const problems = [...schemaProblems, ...cross]
  const unique = problems.filter(
    (p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i,
  )
  if (unique.length > 0 || !result.success) throw new ConfigError(unique)
  return result.data
}

/** Reads and validates a config file. A missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): Config {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError([
      { path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` },
    ])
  }
  return loadConfig(text)
}
