// Every refusal of issue 3 and design §3/§4/§6.1, each reported with its exact path.
import { describe, expect, it } from 'vitest'
import { ConfigError, type ConfigProblem, loadConfig } from '../../../src/config/index.ts'
import { CORP_ISS, corpIssuer } from '../../fixtures/rules.ts'
import { type RawConfig, SUB, VALID_YAML, validConfig } from './valid-config.ts'

type Mutation = (c: RawConfig) => void

const issuer = (c: RawConfig) => c.issuers[0] as Record<string, unknown>
const rule = (c: RawConfig) => c.rules[0] as RawConfig['rules'][number]

/** Loads a config that must be refused and returns its ConfigError. */
function refusal(input: unknown): ConfigError {
  try {
    loadConfig(input)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).code).toBe('ERR_CONFIG_INVALID')
    return err as ConfigError
  }
  throw new Error('expected a ConfigError, the config was accepted')
}

const problemsOf = (input: unknown): readonly ConfigProblem[] => refusal(input).problems

function refusedAt(mutate: Mutation): { paths: string[]; message: string } {
  const config = validConfig()
  mutate(config)
  const error = refusal(config)
  return { paths: error.problems.map((p) => p.path), message: error.message }
}

function accepted(mutate: Mutation) {
  const config = validConfig()
  mutate(config)
  return loadConfig(config)
}

describe('loadConfig refusals', () => {
  it('when the baseline fixture is loaded, then it is accepted (every refusal below is caused by its one change)', () => {
    expect(accepted(() => {}).rules[0]?.id).toBe('app-users')
  })

  it.each<[string, Mutation, string]>([
    ['cors origin "*"', (c) => (c['server'] = { cors: { origins: ['*'] } }), 'server.cors.origins[0]'],
    [
      'cors "*" after a valid origin',
      (c) => (c['server'] = { cors: { origins: ['https://app.example.com', '*'] } }),
      'server.cors.origins[1]',
    ],
    ['trustProxyHops true', (c) => (c['server'] = { trustProxyHops: true }), 'server.trustProxyHops'],
    ['trustProxyHops -1', (c) => (c['server'] = { trustProxyHops: -1 }), 'server.trustProxyHops'],
    [
      'sts http to the public endpoint',
      (c) => (c['sts'] = { protocol: 'http', endpoint: 'sts.cn-hangzhou.aliyuncs.com' }),
      'sts.protocol',
    ],
    ['sts http with the default endpoint', (c) => (c['sts'] = { protocol: 'http' }), 'sts.protocol'],
    [
      'sts http to a private address',
      (c) => (c['sts'] = { protocol: 'http', endpoint: '10.0.0.1:80' }),
      'sts.protocol',
    ],
    [
      'sts http to a host named like localhost',
      (c) => (c['sts'] = { protocol: 'http', endpoint: 'localhost.example.com' }),
      'sts.protocol',
    ],
    [
      'sts http to a host starting with 127.0.0.1',
      (c) => (c['sts'] = { protocol: 'http', endpoint: '127.0.0.1.nip.io' }),
      'sts.protocol',
    ],
    ['algorithm none', (c) => (issuer(c)['algorithms'] = ['RS256', 'none']), 'issuers[0].algorithms[1]'],
    ['algorithm None', (c) => (issuer(c)['algorithms'] = ['None']), 'issuers[0].algorithms[0]'],
    ['algorithm HS256', (c) => (issuer(c)['algorithms'] = ['ES256', 'HS256']), 'issuers[0].algorithms[1]'],
    [
      'algorithm hs512',
      (c) => (issuer(c)['algorithms'] = ['RS256', 'ES256', 'hs512']),
      'issuers[0].algorithms[2]',
    ],
    ['an unknown algorithm', (c) => (issuer(c)['algorithms'] = ['RS1']), 'issuers[0].algorithms[0]'],
    ['duplicate rule id', (c) => c.rules.push(structuredClone(rule(c))), 'rules[1].id'],
    [
      'duplicate issuer id',
      (c) => c.issuers.push({ ...structuredClone(issuer(c)), issuer: 'https://other.example.com/' }),
      'issuers[1].id',
    ],
    [
      'two issuers with one issuer URL (tokens could not be told apart)',
      (c) => c.issuers.push({ ...structuredClone(issuer(c)), id: 'corp-2' }),
      'issuers[1].issuer',
    ],
    ['a rule naming an unknown issuer', (c) => (rule(c)['issuer'] = 'crop'), 'rules[0].issuer'],
    [
      'the console naming an unknown issuer',
      (c) => (c['console'] = { issuer: 'nope', clientId: 'sts-vend-console' }),
      'console.issuer',
    ],
    [
      '${ in roleArn',
      (c) => (rule(c)['roleArn'] = `acs:ram::1234567890123456:role/${SUB}`),
      'rules[0].roleArn',
    ],
    ['${ in bucket', (c) => (rule(c).oss['bucket'] = `bucket-${SUB}`), 'rules[0].oss.bucket'],
    ['${ in an audience', (c) => (issuer(c)['audiences'] = ['sts-vend', SUB]), 'issuers[0].audiences[1]'],
    [
      '${ in an issuer URL',
      (c) => (issuer(c)['issuer'] = `https://id.example.com/${SUB}`),
      'issuers[0].issuer',
    ],
    [
      '${ in a when value',
      (c) => (rule(c)['when'] = { groups: { contains: SUB } }),
      'rules[0].when.groups.contains',
    ],
    ['${ in server.host', (c) => (c['server'] = { host: SUB }), 'server.host'],
    [
      '${ in the console clientId',
      (c) => (c['console'] = { issuer: 'corp', clientId: `console-${SUB}` }),
      'console.clientId',
    ],
    [
      '${ in an access point name',
      (c) => {
        delete rule(c).oss['bucket']
        rule(c).oss['accessPoint'] = {
          name: `ap-${SUB}`,
          alias: 'ap-01-ossalias',
          accountId: '1379186349531234',
        }
      },
      'rules[0].oss.accessPoint.name',
    ],
    ['issuer URL over http', (c) => (issuer(c)['issuer'] = 'http://id.example.com/'), 'issuers[0].issuer'],
    [
      'jwksUri over http',
      (c) => (issuer(c)['jwksUri'] = 'http://id.example.com/.well-known/jwks.json'),
      'issuers[0].jwksUri',
    ],
    ['issuer that is not a URL', (c) => (issuer(c)['issuer'] = 'id.example.com'), 'issuers[0].issuer'],
    [
      'minRemainingSeconds 900',
      (c) => (c['cache'] = { minRemainingSeconds: 900 }),
      'cache.minRemainingSeconds',
    ],
    [
      'minRemainingSeconds 3600',
      (c) => (c['cache'] = { minRemainingSeconds: 3600 }),
      'cache.minRemainingSeconds',
    ],
    [
      'durationSeconds default above max',
      (c) => (rule(c)['durationSeconds'] = { default: 7200, max: 3600 }),
      'rules[0].durationSeconds',
    ],
    [
      'durationSeconds default above the default max',
      (c) => (rule(c)['durationSeconds'] = { default: 7200 }),
      'rules[0].durationSeconds',
    ],
    [
      'durationSeconds max above the STS limit',
      (c) => (rule(c)['durationSeconds'] = { default: 3600, max: 43201 }),
      'rules[0].durationSeconds.max',
    ],
    [
      'durationSeconds default below 900',
      (c) => (rule(c)['durationSeconds'] = { default: 899, max: 3600 }),
      'rules[0].durationSeconds.default',
    ],
    [
      'clockToleranceSeconds 86400',
      (c) => (issuer(c)['clockToleranceSeconds'] = 86400),
      'issuers[0].clockToleranceSeconds',
    ],
    [
      'clockToleranceSeconds -1',
      (c) => (issuer(c)['clockToleranceSeconds'] = -1),
      'issuers[0].clockToleranceSeconds',
    ],
    [
      'clockToleranceSeconds 1.5',
      (c) => (issuer(c)['clockToleranceSeconds'] = 1.5),
      'issuers[0].clockToleranceSeconds',
    ],
    [
      'clockToleranceSeconds "30"',
      (c) => (issuer(c)['clockToleranceSeconds'] = '30'),
      'issuers[0].clockToleranceSeconds',
    ],
    ['both jwksUri and discovery', (c) => (issuer(c)['discovery'] = true), 'issuers[0].jwksUri'],
    ['neither bucket nor accessPoint', (c) => delete rule(c).oss['bucket'], 'rules[0].oss.bucket'],
    ['both access and actions', (c) => (rule(c).oss['actions'] = ['oss:GetObject']), 'rules[0].oss.access'],
  ])('when the config has %s, then it is refused at exactly that path', (_name, mutate, path) => {
    const { paths, message } = refusedAt(mutate)
    expect(paths).toEqual([path])
    expect(message).toContain(`  ${path}: `)
  })

  it.each<[string, Mutation, string, string]>([
    ['at the root', (c) => (c['rulez'] = []), '', 'rulez'],
    ['under server', (c) => (c['server'] = { prot: 8080 }), 'server', 'prot'],
    ['under server.cors', (c) => (c['server'] = { cors: { origin: [] } }), 'server.cors', 'origin'],
    ['under sts', (c) => (c['sts'] = { maxCallsPerSec: 10 }), 'sts', 'maxCallsPerSec'],
    ['under limits (perip)', (c) => (c['limits'] = { perip: { limit: 10 } }), 'limits', 'perip'],
    ['under limits.perIp', (c) => (c['limits'] = { perIp: { limt: 10 } }), 'limits.perIp', 'limt'],
    ['under cache', (c) => (c['cache'] = { maxEntry: 10 }), 'cache', 'maxEntry'],
    ['under an issuer', (c) => (issuer(c)['audience'] = 'x'), 'issuers[0]', 'audience'],
    ['under a rule', (c) => (rule(c)['role'] = 'x'), 'rules[0]', 'role'],
    [
      'under a rule when condition',
      (c) => (rule(c)['when'] = { groups: { contains: 'x', eq: 'x' } }),
      'rules[0].when.groups',
      'eq',
    ],
    ['under rule oss', (c) => (rule(c).oss['prefx'] = 'x/'), 'rules[0].oss', 'prefx'],
    [
      'under rule conditions',
      (c) => (rule(c)['conditions'] = { secureTransprt: true }),
      'rules[0].conditions',
      'secureTransprt',
    ],
    [
      'under rule durationSeconds',
      (c) => (rule(c)['durationSeconds'] = { maximum: 3600 }),
      'rules[0].durationSeconds',
      'maximum',
    ],
    [
      'under console',
      (c) => (c['console'] = { issuer: 'corp', clientId: 'sts-vend-console', clientSecret: 'y' }),
      'console',
      'clientSecret',
    ],
    [
      'named __proto__',
      (c) => Object.defineProperty(c, '__proto__', { value: {}, enumerable: true }),
      '',
      '__proto__',
    ],
  ])('when there is an unknown key %s, then it is an error naming the key', (_name, mutate, path, key) => {
    const config = validConfig()
    mutate(config)
    const problems = problemsOf(config)
    // A rule's problems name the rule (issue 16 item 12).
    const named = path.startsWith('rules[0]') ? 'rule "app-users": ' : ''
    expect(problems).toEqual([{ path, message: `${named}unknown key: ${key}` }])
  })

  it('when limits has the typo "perip", then the error reads "limits: unknown key: perip"', () => {
    expect(() => loadConfig(`${VALID_YAML}limits:\n  perip: { limit: 10 }\n`)).toThrow(
      'limits: unknown key: perip',
    )
  })

  it.each([['127.0.0.1'], ['127.0.0.1:9000'], ['localhost'], ['localhost:9000'], ['[::1]'], ['[::1]:9000']])(
    'when sts.protocol is http and the endpoint is the loopback %s, then it is accepted',
    (endpoint) => {
      expect(accepted((c) => (c['sts'] = { protocol: 'http', endpoint })).sts).toMatchObject({
        protocol: 'http',
        endpoint,
      })
    },
  )

  it.each([['http://127.0.0.1:8443/'], ['http://localhost/'], ['http://[::1]:8443/']])(
    'when an issuer URL and its jwksUri are http on the loopback %s, then they are accepted',
    (url) => {
      const config = accepted((c) => {
        issuer(c)['issuer'] = url
        issuer(c)['jwksUri'] = `${url}jwks.json`
      })
      const first = config.issuers[0]
      expect(first?.type === 'oidc' ? first.issuer : undefined).toBe(url)
    },
  )

  it('when template variables are in oss.prefix, sessionName and externalId, then they are accepted', () => {
    const config = accepted((c) => {
      rule(c)['sessionName'] = `app-${SUB}`
      rule(c)['externalId'] = `ext-${SUB}`
      rule(c).oss['prefix'] = `users/${SUB}/`
    })
    expect(config.rules[0]).toMatchObject({ sessionName: `app-${SUB}`, externalId: `ext-${SUB}` })
  })

  it('when minRemainingSeconds is 899, then it is accepted', () => {
    expect(accepted((c) => (c['cache'] = { minRemainingSeconds: 899 })).cache.minRemainingSeconds).toBe(899)
  })
})

describe('numeric limits: positive integers with no upper bound', () => {
  const HUGE = 1_000_000_000_000

  it('when every numeric limit is huge, then it is accepted unchanged', () => {
    const config = accepted((c) => {
      c['limits'] = {
        perIp: { limit: HUGE, windowSeconds: HUGE },
        perSubject: { limit: Number.MAX_SAFE_INTEGER },
      }
      c['sts'] = { maxCallsPerSecond: HUGE }
      c['cache'] = { maxEntries: HUGE }
    })
    expect(config.limits.perIp).toEqual({ limit: HUGE, windowSeconds: HUGE })
    expect(config.limits.perSubject.limit).toBe(Number.MAX_SAFE_INTEGER)
    expect(config.sts.maxCallsPerSecond).toBe(HUGE)
    expect(config.cache.maxEntries).toBe(HUGE)
  })

  it('when a huge limit is written in YAML, then it is accepted', () => {
    const config = loadConfig(`${VALID_YAML}limits:\n  perIp: { limit: 1000000000000 }\n`)
    expect(config.limits.perIp.limit).toBe(HUGE)
  })

  it.each([[0], [-1], [1.5], ['10'], [null]])(
    'when every numeric limit is %j, then each is refused at its own path',
    (value) => {
      const config = validConfig()
      config['limits'] = { perIp: { limit: value }, perSubject: { limit: value } }
      config['sts'] = { maxCallsPerSecond: value }
      config['cache'] = { maxEntries: value }
      expect(
        problemsOf(config)
          .map((p) => p.path)
          .sort(),
      ).toEqual([
        'cache.maxEntries',
        'limits.perIp.limit',
        'limits.perSubject.limit',
        'sts.maxCallsPerSecond',
      ])
    },
  )
})

describe('secrets and trust anchors have no defaults', () => {
  it('when the config is empty, then issuers and rules are both required', () => {
    expect(problemsOf({}).map((p) => p.path)).toEqual(['issuers', 'rules'])
  })

  it('when issuers and rules are empty lists, then both are refused', () => {
    expect(problemsOf({ issuers: [], rules: [] }).map((p) => p.path)).toEqual(['issuers', 'rules'])
  })

  it('when issuers is missing, then only issuers is reported (not every rule naming a missing issuer)', () => {
    const config = validConfig() as Partial<RawConfig>
    delete config.issuers
    expect(problemsOf(config).map((p) => p.path)).toEqual(['issuers'])
  })

  it.each<[string, Mutation, string]>([
    ['no audiences', (c) => delete issuer(c)['audiences'], 'issuers[0].audiences'],
    ['empty audiences', (c) => (issuer(c)['audiences'] = []), 'issuers[0].audiences'],
    ['no algorithms', (c) => delete issuer(c)['algorithms'], 'issuers[0].algorithms'],
    ['empty algorithms', (c) => (issuer(c)['algorithms'] = []), 'issuers[0].algorithms'],
    ['no issuer URL', (c) => delete issuer(c)['issuer'], 'issuers[0].issuer'],
    ['neither jwksUri nor discovery', (c) => delete issuer(c)['jwksUri'], 'issuers[0].jwksUri'],
    ['a rule without roleArn', (c) => delete rule(c)['roleArn'], 'rules[0].roleArn'],
    ['a rule without issuer', (c) => delete rule(c)['issuer'], 'rules[0].issuer'],
    [
      'a rule without oss',
      (c) => delete (rule(c) as Partial<RawConfig['rules'][number]>).oss,
      'rules[0].oss',
    ],
    ['a rule without prefix', (c) => delete rule(c).oss['prefix'], 'rules[0].oss.prefix'],
  ])('when an issuer or rule has %s, then it is required', (_name, mutate, path) => {
    expect(refusedAt(mutate).paths).toEqual([path])
  })
})

describe('every rule problem names the rule id (issue 16 item 12)', () => {
  const base = {
    id: 'uploads',
    issuer: 'corp',
    roleArn: 'acs:ram::1234567890123456:role/oss-app-user',
    oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'up/${sub}/', access: 'read' },
  }
  const issuers = [corpIssuer({ issuer: CORP_ISS, jwksUri: `${CORP_ISS}jwks.json` })]
  const problemsOf = (rule: Record<string, unknown>) => {
    try {
      loadConfig({ issuers, rules: [{ ...base, id: 'first' }, rule] })
    } catch (err) {
      return [...(err as ConfigError).problems]
    }
    return []
  }

  it.each<[string, Record<string, unknown>]>([
    ['both access and actions', { ...base, oss: { ...base.oss, actions: ['oss:GetObject'] } }],
    ['neither access nor actions', { ...base, oss: { ...base.oss, access: undefined } }],
    ['an unknown key', { ...base, colour: 'blue' }],
    ['an unknown issuer', { ...base, issuer: 'nobody' }],
    ['a bad roleArn', { ...base, roleArn: 'arn:aws:iam::1:role/x' }],
    ['a duration default over max', { ...base, durationSeconds: { default: 7200, max: 3600 } }],
    ['a duplicate id', { ...base, id: 'first' }],
  ])('when a rule has %s, then each of its problems names the rule id', (_what, rule) => {
    const problems = problemsOf(rule).filter((p) => p.path.startsWith('rules[1]'))
    expect(problems.length).toBeGreaterThan(0)
    for (const p of problems) expect(p.message).toMatch(new RegExp(`^rule "${String(rule['id'])}": `))
  })
})
