// loadConfig: YAML text or a plain object → a validated Config, or one ConfigError listing every problem.
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { hostOf, isLoopbackHost } from '../net/host.ts'
import { type CompiledRule, compileAll, compileRule, type RuleProblem } from '../policies/index.ts'
import { type Config, configSchema, PARSE_ONCE, type RuleConfig } from './schema.ts'

/** A config problem: where, as `rules[2].oss.prefix` (empty for the document itself), and what. */
export type ConfigProblem = RuleProblem

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

/** The same id (or issuer URL) twice in issuers or rules. */
function duplicateProblems(issuers: unknown[], rules: unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const duplicates = (items: unknown[], where: string, field = 'id', why = '') => {
    const seen = new Map<string, number>()
    items.forEach((item, i) => {
      const value = isObject(item) ? item[field] : undefined
      if (typeof value !== 'string') return
      const first = seen.get(value)
      if (first === undefined) seen.set(value, i)
      else
        problems.push({
          path: `${where}[${i}].${field}`,
          message: `duplicate ${field} "${value}" (also ${where}[${first}])${why}`,
        })
    })
  }
  duplicates(issuers, 'issuers')
  // Tokens are matched to an issuer by their exact iss; two issuers with one URL could not be told apart.
  duplicates(issuers, 'issuers', 'issuer', ': tokens could not be told apart')
  duplicates(rules, 'rules')
  return problems
}

/** A rule or the console naming an issuer that is not listed. */
function unknownIssuerProblems(raw: Raw, issuers: unknown[], rules: unknown[]): ConfigProblem[] {
  // Without an issuers list, zod already reports it; naming every rule's issuer "unknown" would be noise.
  if (!Array.isArray(raw['issuers'])) return []
  const problems: ConfigProblem[] = []
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
  return problems
}

/** The console sends the ID token, whose audience is its client id: the issuer must accept it. */
function consoleAudienceProblems(raw: Raw, issuers: unknown[]): ConfigProblem[] {
  const consoleSection = raw['console']
  if (
    !isObject(consoleSection) ||
    typeof consoleSection['clientId'] !== 'string' ||
    consoleSection['clientId'].includes('${')
  )
    return []
  const consoleIssuer = issuers.find((i) => isObject(i) && i['id'] === consoleSection['issuer'])
  const audiences = isObject(consoleIssuer) ? list(consoleIssuer['audiences']) : []
  if (!isObject(consoleIssuer) || audiences.includes(consoleSection['clientId'])) return []
  return [
    {
      path: 'console.clientId',
      message: `the console signs in with ID tokens for "${consoleSection['clientId']}": add it to the audiences of issuer "${consoleSection['issuer']}"`,
    },
  ]
}

/** Settings that would weaken transport or limits: plain http to a remote STS, trustProxyHops: true. */
function unsafeSettingProblems(raw: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = []
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

/**
 * Issuers of `type: alibaba-identity` (design §14): their `stsEndpoint` uses `sts.protocol`, so http
 * needs a loopback endpoint; a request is matched to its issuer by its signed audience, so two such
 * issuers never share one; the console signs people in with ID tokens, so its issuer is OIDC.
 */
function alibabaIssuerProblems(raw: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const sts = raw['sts']
  const http = isObject(sts) && sts['protocol'] === 'http'
  const audiences = new Map<string, number>()
  list(raw['issuers']).forEach((issuer, i) => {
    if (!isObject(issuer) || issuer['type'] !== 'alibaba-identity') return
    const endpoint = issuer['stsEndpoint']
    if (http && typeof endpoint === 'string' && !isLoopbackHost(hostOf(endpoint)))
      problems.push({
        path: `issuers[${i}].stsEndpoint`,
        message: 'sts.protocol is http: refused unless stsEndpoint is a loopback host',
      })
    const audience = issuer['audience']
    if (typeof audience !== 'string') return
    const first = audiences.get(audience)
    if (first === undefined) audiences.set(audience, i)
    else
      problems.push({
        path: `issuers[${i}].audience`,
        message: `duplicate audience "${audience}" (also issuers[${first}]): requests could not be told apart`,
      })
  })
  const consoleSection = raw['console']
  const consoleIssuer = list(raw['issuers']).find(
    (i) => isObject(consoleSection) && isObject(i) && i['id'] === consoleSection['issuer'],
  )
  if (isObject(consoleIssuer) && consoleIssuer['type'] === 'alibaba-identity')
    problems.push({
      path: 'console.issuer',
      message: 'the console signs in with an OIDC issuer, not alibaba-identity',
    })
  return problems
}

/** Checks that span fields; run on the raw input so they report even when other fields are invalid. */
function crossProblems(raw: Raw): ConfigProblem[] {
  const issuers = list(raw['issuers'])
  const rules = list(raw['rules'])
  return [
    ...duplicateProblems(issuers, rules),
    ...unknownIssuerProblems(raw, issuers, rules),
    ...consoleAudienceProblems(raw, issuers),
    ...unsafeSettingProblems(raw),
    ...misplacedTemplates(raw),
    ...alibabaIssuerProblems(raw),
  ]
}

/**
 * Design §4: `${` is a template only in a rule's prefix, sessionName and externalId. Anywhere else it
 * would be taken literally (an audience of "${sub}"), never what was meant. The other fields of a
 * rule have their own checks (schema, policy proofs); this covers the rest of the document.
 */
function misplacedTemplates(raw: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === 'string' && value.includes('${')) {
      problems.push({
        path: formatPath(path),
        message: "template variables are allowed only in a rule's oss.prefix, sessionName and externalId",
      })
    }
    const entries = Array.isArray(value) ? [...value.entries()] : isObject(value) ? Object.entries(value) : []
    for (const [key, item] of entries) walk(item, [...path, key])
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'rules') walk(value, [key])
  }
  list(raw['rules']).forEach((rule, i) => {
    if (isObject(rule)) walk(rule['when'], ['rules', i, 'when'])
  })
  return problems
}

/** Parses YAML text into a plain value; syntax errors and duplicate keys become problems. */
export function parseConfigText(text: string): { value: unknown; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      // The first line names the problem and its place ("... at line 3, column 3:"); the rest is a code frame.
      problems: doc.errors.map((e) => ({
        path: '',
        message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
      })),
    }
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 50 }), problems: [] }
  } catch (err) {
    // yaml throws (a ReferenceError) on an alias bomb; it is a bad config, not a crash.
    return { value: undefined, problems: [{ path: '', message: `YAML: ${(err as Error).message}` }] }
  }
}

/** With `fleet` set and `limits.store` not, the rate limits live in the fleet's Redis too. */
function withFleetDefaults(raw: Raw): Raw {
  const fleet = raw['fleet']
  const limits = raw['limits'] ?? {}
  if (!isObject(fleet) || typeof fleet['redisUrl'] !== 'string' || !isObject(limits)) return raw
  if (limits['store'] !== undefined) return raw
  const redisUrl = limits['redisUrl'] ?? fleet['redisUrl']
  return { ...raw, limits: { ...limits, store: 'redis', redisUrl } }
}

/**
 * Design §3: zod's record drops a `when` key such as `__proto__`; a condition that silently
 * vanished would widen the rule, so every key of the rule as written must have survived.
 */
function droppedConditions(rule: RuleConfig, index: number, raw: unknown): ConfigProblem[] {
  const rawWhen = isObject(raw) ? raw['when'] : undefined
  if (!isObject(rawWhen)) return []
  return Object.keys(rawWhen)
    .filter((key) => !Object.hasOwn(rule.when, key))
    .map((key) => ({
      path: `rules[${index}].when.${key}`,
      message: `rule "${rule.id}": claim path "${key}" uses a reserved name`,
    }))
}

/**
 * The policy engine's load-time proofs (templates, patterns, containment, worst-case length) for
 * every rule that parses, even when the document as a whole does not: every problem is reported.
 */
function ruleProofs(
  value: Raw,
  parsed: Config | undefined,
): { rules: CompiledRule[]; problems: ConfigProblem[] } {
  const ruleSchema = configSchema.shape.rules.element
  const raws = list(value['rules'])
  const specs = parsed ? parsed.rules : raws.map((raw) => ruleSchema.safeParse(raw, PARSE_ONCE).data)
  const problems: ConfigProblem[] = []
  const rules: CompiledRule[] = []
  specs.forEach((spec, i) => {
    if (spec === undefined) return
    const compiled = compileRule(spec, i)
    problems.push(...compiled.problems, ...droppedConditions(spec, i, raws[i]))
    if (compiled.rule) rules.push(compiled.rule)
  })
  return { rules, problems }
}

/**
 * Every problem of a rule names the rule's id (issue 16): `rules[6].oss.access` alone makes the
 * operator count list items. Problems of a rule without a usable id keep their path only.
 */
function namingRules(value: Raw, problems: ConfigProblem[]): ConfigProblem[] {
  const rules = list(value['rules'])
  return problems.map((p) => {
    const index = /^rules\[(\d+)\]/.exec(p.path)?.[1]
    const rule = index === undefined ? undefined : rules[Number(index)]
    const id = isObject(rule) && typeof rule['id'] === 'string' ? rule['id'] : undefined
    if (id === undefined || p.message.startsWith(`rule "${id}": `)) return p
    return { ...p, message: `rule "${id}": ${p.message}` }
  })
}

/** The rules loadConfig compiled with each config it returned: compiled once, at load. */
const compiledRules = new WeakMap<Config, readonly CompiledRule[]>()

/**
 * Validates a config given as YAML text or as an already-parsed object, applies the documented
 * defaults, compiles and proves every rule, and throws one `ConfigError` listing every problem
 * with its path (a rule's problems name the rule id).
 */
export function loadConfig(input: string | unknown): Config {
  let value: unknown = input
  if (typeof input === 'string') {
    const parsed = parseConfigText(input)
    if (parsed.problems.length > 0) throw new ConfigError(parsed.problems)
    value = parsed.value
  }
  if (!isObject(value)) throw new ConfigError([{ path: '', message: 'the config must be a mapping' }])
  const document = withFleetDefaults(value)
  const result = configSchema.safeParse(document, PARSE_ONCE)
  const cross = crossProblems(document)
  // A cross-field message that explains a field replaces zod's generic one for that field.
  const explained = new Set(cross.map((p) => p.path))
  const schemaProblems = result.success ? [] : zodProblems(result.error).filter((p) => !explained.has(p.path))
  const proofs = ruleProofs(document, result.data)
  const problems = namingRules(document, [...schemaProblems, ...cross, ...proofs.problems])
  const unique = problems.filter(
    (p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i,
  )
  if (unique.length > 0 || !result.success) throw new ConfigError(unique)
  compiledRules.set(result.data, proofs.rules)
  return result.data
}

/**
 * The compiled rules of a validated config: the ones loadConfig compiled with it, or (for a
 * config built another way, as tests do) compiled now. Throws ConfigError listing every problem.
 */
export function compileRules(config: Config): CompiledRule[] {
  const loaded = compiledRules.get(config)
  if (loaded) return [...loaded]
  const { rules, problems } = compileAll(config.rules)
  if (problems.length > 0) throw new ConfigError(problems)
  return rules
}

/** Reads a config file's text; a missing or unreadable file is a ConfigError naming it. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError([
      { path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` },
    ])
  }
}

/** Reads and validates a config file. A missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): Config {
  return loadConfig(readConfigFile(path))
}
