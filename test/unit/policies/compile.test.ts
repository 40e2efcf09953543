// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type Config, ConfigError, compileRules, loadConfig } from '../../../src/config/index.ts'
import { compileRule } from '../../../src/policies/compile.ts'
import { renderGrant } from '../../../src/policies/index.ts'
import {
  alice,
  appUsers,
  callerOf,
  compile,
  compileOne,
  configDoc,
  type RawRule,
} from '../../fixtures/rules.ts'

const prefixOf = (rule: RawRule): string => (rule['oss'] as { prefix: string }).prefix

/** The config with its first rule's prefix replaced, skipping the loader (as a bypass would). */
function withPrefix(config: Config, prefix: string): Config {
  const [first] = config.rules
  return { ...config, rules: [{ ...first!, oss: { ...first!.oss, prefix } }] }
}

function problemsOf(rules: RawRule[]): { path: string; message: string }[] {
  try {
    loadConfig(configDoc(rules))
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems]
    throw err
  }
  return []
}

/** An upload-only rule (the prefix appears once in its policy) whose literal prefix is exactly `n` characters. */
function paddedRule(n: number): RawRule {
  const segments: string[] = []
  let left = n
  while (left > 0) {
    let take = Math.min(100, left)
    // Never leave exactly one character: it would have to be a lone "/".
    if (left - take === 1) take -= 1
    segments.push('p'.repeat(take))
    left -= take
    if (left > 0) left -= 1
  }
  const literal = segments.join('/')
  expect(literal.length).toBe(n)
  return appUsers({
    oss: { prefix: `${literal}/\${sub}/`, access: 'upload-only' },
    conditions: { sourceIp: 'request', secureTransport: true },
  })
}

describe('load-time proofs', () => {
  it('when a rule renders its worst case at exactly 2,048 characters, then it starts, and a longest caller renders exactly that', () => {
    const base = compileOne(paddedRule(1)).worstCaseLength
    const fits = 2048 - base + 1
    const rule = compileOne(paddedRule(fits))
    expect(rule.worstCaseLength).toBe(2048)
    // Independent of the proof: a real 128-character subject from the longest IPv6 address.
    const longest = callerOf({ sub: 'z'.repeat(128), groups: ['photo-app'] })
    const grant = renderGrant(
      rule,
      longest,
      { format: 'json' },
      { clientIp: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe' },
    )
    expect(grant.policy.length).toBe(2048)
  })

  it('when a rule renders its worst case at 2,049 characters, then the config is refused naming the rule and the figure (SEC-069)', () => {
    const base = compileOne(paddedRule(1)).worstCaseLength
    const problems = problemsOf([paddedRule(2048 - base + 2)])
    expect(problems).toHaveLength(1)
    expect(problems[0]?.path).toBe('rules[0]')
    expect(problems[0]?.message).toContain('2049')
    expect(problems[0]?.message).toContain('app-users')
    expect(problems[0]?.message).toContain('2048')
  })

  it('when compileRules is given a config whose rule is too long, then it throws a ConfigError too', () => {
    const base = compileOne(paddedRule(1)).worstCaseLength
    const config = loadConfig(configDoc([paddedRule(1)]))
    const tooLong = withPrefix(config, prefixOf(paddedRule(2048 - base + 2)))
    expect(() => compileRules(tooLong)).toThrow(ConfigError)
  })

  it('when the load check is bypassed and a 2,049-character policy is rendered at runtime, then it is a server_error', () => {
    const base = compileOne(paddedRule(1)).worstCaseLength
    const config = withPrefix(loadConfig(configDoc([paddedRule(1)])), prefixOf(paddedRule(2048 - base + 2)))
    const { rule: compiled, problems } = compileRule(config.rules[0]!, 0)
    expect(problems.map((p) => p.message).join()).toContain('2049')
    const longest = callerOf({ sub: 'z'.repeat(128), groups: ['photo-app'] })
    let code: string | undefined
    try {
      renderGrant(
        compiled!,
        longest,
        { format: 'json' },
        { clientIp: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe' },
      )
    } catch (err) {
      code = (err as { code?: string }).code
    }
    expect(code).toBe('server_error')
    // The same rule with a short subject renders, far below the limit.
    expect(
      renderGrant(compiled!, alice(), { format: 'json' }, { clientIp: '127.0.0.1' }).policy.length,
    ).toBeLessThan(2048)
  })

  it.each<[string, RawRule, string]>([
    // SEC-060: variable placement and literal wildcards
    ['a wildcard in a literal', appUsers({ oss: { prefix: 'users/*/${sub}/' } }), 'rules[0].oss.prefix'],
    ['a question mark in a literal', appUsers({ oss: { prefix: 'us?rs/${sub}/' } }), 'rules[0].oss.prefix'],
    ['a ".." literal segment', appUsers({ oss: { prefix: 'users/../${sub}/' } }), 'rules[0].oss.prefix'],
    ['a "." literal segment', appUsers({ oss: { prefix: './${sub}/' } }), 'rules[0].oss.prefix'],
    ['no trailing slash', appUsers({ oss: { prefix: 'users/${sub}' } }), 'rules[0].oss.prefix'],
    ['a leading slash', appUsers({ oss: { prefix: '/users/${sub}/' } }), 'rules[0].oss.prefix'],
    ['an empty segment', appUsers({ oss: { prefix: 'users//${sub}/' } }), 'rules[0].oss.prefix'],
    ['only a slash', appUsers({ oss: { prefix: '/' } }), 'rules[0].oss.prefix'],
    [
      'a variable sharing its segment',
      appUsers({ oss: { prefix: 'users/u-${sub}/' } }),
      'rules[0].oss.prefix',
    ],
    ['a variable followed by text', appUsers({ oss: { prefix: 'users/${sub}-x/' } }), 'rules[0].oss.prefix'],
    [
      'two variables in one segment',
      appUsers({ oss: { prefix: 'users/${sub}${claim.team}/' } }),
      'rules[0].oss.prefix',
    ],
    ['an unknown variable', appUsers({ oss: { prefix: 'users/${user}/' } }), 'rules[0].oss.prefix'],
    ['an unterminated variable', appUsers({ oss: { prefix: 'users/${sub/' } }), 'rules[0].oss.prefix'],
    [
      'a __proto__ claim path',
      appUsers({ oss: { prefix: 'users/${claim.__proto__}/' } }),
      'rules[0].oss.prefix',
    ],
    ['a dollar in a literal', appUsers({ oss: { prefix: 'users/$x/${sub}/' } }), 'rules[0].oss.prefix'],
    [
      'a rule id with ".." used in the prefix',
      appUsers({ id: 'a..b', oss: { prefix: 'r/${rule}/${sub}/' } }),
      'rules[0].oss.prefix',
    ],
    [
      'an unknown variable in the session name',
      appUsers({ sessionName: 'x-${name}' }),
      'rules[0].sessionName',
    ],
    ['a space in the ExternalId', appUsers({ externalId: 'partner id' }), 'rules[0].externalId'],
    ['a one-character ExternalId', appUsers({ externalId: 'x' }), 'rules[0].externalId'],
    [
      'an unknown action',
      appUsers({ oss: { access: undefined, actions: ['oss:GetObject', 'oss:Frobnicate'] } }),
      'rules[0].oss.actions[1]',
    ],
    [
      'a bucket-level action',
      appUsers({ oss: { access: undefined, actions: ['oss:DeleteBucket'] } }),
      'rules[0].oss.actions[0]',
    ],
    [
      'GetBucketInfo outside ossbrowser',
      appUsers({ oss: { access: undefined, actions: ['oss:GetBucketInfo'] } }),
      'rules[0].oss.actions[0]',
    ],
    [
      'an endpoint with a scheme',
      appUsers({ oss: { endpoint: 'https://oss-cn-hangzhou.aliyuncs.com' } }),
      'rules[0].oss.endpoint',
    ],
    [
      'an endpoint with a variable',
      appUsers({ oss: { endpoint: 'oss-${sub}.aliyuncs.com' } }),
      'rules[0].oss.endpoint',
    ],
    // SEC-064, SEC-066, SEC-067
    [
      'a __proto__ when path',
      appUsers({ when: { '__proto__.x': { exists: true } } }),
      'rules[0].when.__proto__.x',
    ],
    [
      'a constructor when path',
      appUsers({ when: { constructor: { exists: true } } }),
      'rules[0].when.constructor',
    ],
    [
      'a when path deeper than 8',
      appUsers({ when: { 'a.b.c.d.e.f.g.h.i': { exists: true } } }),
      'rules[0].when.a.b.c.d.e.f.g.h.i',
    ],
    // Issue 16 item 1: what RE2 cannot run in linear time is refused, naming the rule.
    [
      'a backreference in matches',
      appUsers({ when: { groups: { matches: '(a)\\1' } } }),
      'rules[0].when.groups.matches',
    ],
    [
      'a lookahead in matches',
      appUsers({ when: { groups: { matches: '(?!admin).*' } } }),
      'rules[0].when.groups.matches',
    ],
    ['a lookahead in pattern', appUsers({ pattern: '(?=x)[a-z]+' }), 'rules[0].pattern'],
    ['an unbalanced pattern', appUsers({ pattern: '[a-z' }), 'rules[0].pattern'],
    [
      'an oversized matches',
      appUsers({ when: { groups: { matches: '.{0,999}' } } }),
      'rules[0].when.groups.matches',
    ],
  ])('when a rule has %s, then the config is refused at %s', (_what, rule, path) => {
    const problems = problemsOf([rule])
    expect(problems.map((p) => p.path)).toContain(path)
    const problem = problems.find((p) => p.path === path)
    expect(problem?.message).toContain(`"${String(rule['id'])}"`)
  })

  it.each<[string, string]>([
    ['${sub} first', '${sub}/'],
    ['${claim.team} first', '${claim.team}/x/'],
    ['a variable sharing the first segment', 'x${sub}/'],
    ['${issuer} first', '${issuer}/${sub}/'],
    ['${rule} first', '${rule}/${sub}/'],
  ])(
    'when a prefix has %s, then it is refused at load naming the rule and the fix (issue 16 item 3)',
    (_what, prefix) => {
      const problems = problemsOf([appUsers({ id: 'team-folders', oss: { prefix } })])
      const problem = problems.find(
        (p) => p.path === 'rules[0].oss.prefix' && p.message.includes('literal folder'),
      )
      expect(problem?.message).toContain('rule "team-folders"')
      expect(problem?.message).toContain('"users/${sub}/"')
    },
  )

  it.each<[string, RawRule, string]>([
    [
      'roleArn with a variable (SEC-077)',
      appUsers({ roleArn: 'acs:ram::1234567890123456:role/${sub}' }),
      'rules[0].roleArn',
    ],
    [
      'an unbalanced matches (SEC-066)',
      appUsers({ when: { groups: { matches: 'x)|(' } } }),
      'rules[0].when.groups.matches',
    ],
    ['an empty prefix', appUsers({ oss: { prefix: '' } }), 'rules[0].oss.prefix'],
  ])('when a rule has %s, then the schema refuses it at %s', (_what, rule, path) => {
    expect(problemsOf([rule]).map((p) => p.path)).toContain(path)
  })

  it.each([
    [
      'YAML',
      (rule: RawRule) =>
        stringify(configDoc([rule])).replace('when: {}', 'when:\n      __proto__: { exists: true }'),
    ],
    [
      'JSON',
      (rule: RawRule) =>
        JSON.parse(
          JSON.stringify(configDoc([rule])).replace('"when":{}', '"when":{"__proto__":{"exists":true}}'),
        ),
    ],
  ])(
    'when a %s rule has a when key __proto__, then it is refused rather than silently dropped (SEC-064)',
    (_how, build) => {
      const doc = build(appUsers({ when: {} }))
      let problems: { path: string; message: string }[] = []
      try {
        loadConfig(doc)
      } catch (err) {
        problems = [...(err as ConfigError).problems]
      }
      expect(problems.map((p) => p.path)).toContain('rules[0].when.__proto__')
    },
  )

  it('when several rules have problems, then every problem is listed at once', () => {
    const problems = problemsOf([
      appUsers({ oss: { prefix: 'users/*/' } }),
      appUsers({ id: 'second', when: { groups: { matches: '(a)\\1' } } }),
    ])
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['rules[0].oss.prefix', 'rules[1].when.groups.matches']),
    )
  })

  it('when another part of the config is invalid, then a rule problem is still reported with it', () => {
    const doc = { ...configDoc([appUsers({ oss: { prefix: 'users/*/${sub}/' } })]), server: { port: -1 } }
    let problems: { path: string }[] = []
    try {
      loadConfig(doc)
    } catch (err) {
      problems = [...(err as ConfigError).problems]
    }
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['server.port', 'rules[0].oss.prefix']),
    )
  })

  it.each<[string, RawRule]>([
    ['several whole-segment variables', appUsers({ oss: { prefix: 'orgs/${claim.org}/${issuer}/${sub}/' } })],
    ['a literal-only prefix', appUsers({ oss: { prefix: 'exampledir/' } })],
    ['literal characters of the value rule', appUsers({ oss: { prefix: 'a.b/c=d/e+f/g@h/i-j/${sub}/' } })],
    ['a claim number path', appUsers({ oss: { prefix: 'teams/${claim.team}/' } })],
    ['a templated ExternalId', appUsers({ externalId: 'tenant-${claim.tenant}' })],
    [
      'an actions list',
      appUsers({ oss: { access: undefined, actions: ['oss:GetObject', 'oss:ListObjects'] } }),
    ],
  ])('when a rule has %s, then it compiles', (_what, rule) => {
    expect(() => compile([rule])).not.toThrow()
  })

  it('when a pattern uses RE2 syntax JavaScript lacks, then it loads and matches as RE2 does', () => {
    const rule = compileOne(appUsers({ when: { team: { matches: '(?i)photo-(?P<env>dev|prod)' } } }))
    const decide = (team: string) => rule.when[0]?.failure({ team }, { left: 1_000_000 }) ?? null
    expect([decide('PHOTO-dev'), decide('photo-prod')]).toEqual([null, null])
    expect(decide('photo-test')).not.toBeNull()
  })

  it('when the bundled example config is loaded, then every rule is proved below the limit', () => {
    const rules = compileRules(loadConfig(readFileSync('examples/config.yaml', 'utf8')))
    expect(rules.map((r) => [r.id, r.literalPrefix])).toEqual([
      ['app-users', 'users/'],
      ['ossbrowser-analysts', 'teams/'],
      ['partner-broker', 'ingest/'],
    ])
    for (const rule of rules) expect(rule.worstCaseLength).toBeLessThanOrEqual(2048)
  })
})
