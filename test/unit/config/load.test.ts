// loadConfig and loadConfigFile: the example, the documented defaults of design §3, YAML handling, and every problem at once.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, type ConfigProblem, loadConfig, loadConfigFile } from '../../../src/config/index.ts'
import { VALID_YAML, validConfig } from './valid-config.ts'

function problemsOf(run: () => unknown): readonly ConfigProblem[] {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError, the config was accepted')
}

describe('loadConfig', () => {
  it('when given the bundled example, then it loads with defaults applied', () => {
    const config = loadConfig(readFileSync('examples/config.yaml', 'utf8'))
    expect(config.rules.map((r) => r.id)).toEqual(['app-users', 'ossbrowser-analysts', 'partner-broker'])
    expect(config.rules[1]?.conditions).toEqual({ sourceIp: null, secureTransport: true })
    expect(config.rules[2]?.externalId).toBe('partner-7f3a9c2e')
    expect(config.server.requestTimeoutMs).toBe(15000)
  })

  it('when every optional section is omitted, then server, sts, limits and cache are exactly the defaults of design §3', () => {
    const config = loadConfig(validConfig())
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      trustProxyHops: 0,
      cors: { origins: [] },
      bodyLimitBytes: 16384,
      simulate: true,
      requestTimeoutMs: 15000,
      metrics: { unauthenticated: false },
      publicUrl: null,
    })
    expect(config.sts).toEqual({
      endpoint: 'sts.cn-hangzhou.aliyuncs.com',
      protocol: 'https',
      region: 'cn-hangzhou',
      connectTimeoutMs: 2000,
      readTimeoutMs: 5000,
      maxAttempts: 3,
      maxCallsPerSecond: 80,
    })
    expect(config.limits).toEqual({
      store: 'memory',
      redisUrl: 'redis://127.0.0.1:6379',
      perIp: { limit: 300, windowSeconds: 60 },
      perSubject: { limit: 60, windowSeconds: 60 },
    })
    expect(config.cache).toEqual({ maxEntries: 10000, maxMemoryMiB: 64, minRemainingSeconds: 300 })
    expect(config.console).toBeUndefined()
  })

  it('when an issuer and a rule give only what is required, then their optional fields get the defaults', () => {
    const config = loadConfig(validConfig())
    expect(config.issuers[0]).toEqual({
      type: 'oidc',
      id: 'corp',
      issuer: 'https://id.example.com/',
      audiences: ['sts-vend', 'sts-vend-console'],
      jwksUri: 'https://id.example.com/.well-known/jwks.json',
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
    })
    expect(config.rules[0]).toMatchObject({
      when: {},
      externalId: null,
      conditions: { sourceIp: null, secureTransport: true },
      durationSeconds: { default: 3600, max: 3600 },
      oss: { endpoint: null },
      selectable: false,
    })
  })

  it('when server.publicUrl is an http(s) base URL it is kept; with a query, a fragment or another scheme it is refused', () => {
    const withUrl = (publicUrl: unknown) => ({ ...validConfig(), server: { publicUrl } })
    expect(loadConfig(withUrl('https://sts.example.com/base')).server.publicUrl).toBe(
      'https://sts.example.com/base',
    )
    for (const bad of [
      'https://sts.example.com/?x=1',
      'https://sts.example.com/#f',
      'javascript:alert(1)',
      'sts.example.com',
    ])
      expect(problemsOf(() => loadConfig(withUrl(bad))).map((p) => p.path)).toEqual(['server.publicUrl'])
  })

  it('when a section is given in part, then its other keys still get their defaults', () => {
    const config = loadConfig({
      ...validConfig(),
      server: { port: 9000, cors: {} },
      limits: { perIp: { limit: 5 } },
      cache: { maxEntries: 7 },
    })
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 9000, cors: { origins: [] } })
    expect(config.limits.perIp).toEqual({ limit: 5, windowSeconds: 60 })
    expect(config.limits.perSubject).toEqual({ limit: 60, windowSeconds: 60 })
    expect(config.cache).toEqual({ maxEntries: 7, maxMemoryMiB: 64, minRemainingSeconds: 300 })
  })

  it('when the console section names an issuer, then its scopes default to openid and profile', () => {
    const config = loadConfig({ ...validConfig(), console: { issuer: 'corp', clientId: 'sts-vend-console' } })
    expect(config.console).toEqual({
      issuer: 'corp',
      clientId: 'sts-vend-console',
      scopes: ['openid', 'profile'],
    })
  })

  it('when the YAML text equals the object form, then both load to the same config', () => {
    expect(loadConfig(VALID_YAML)).toEqual(loadConfig(validConfig()))
  })

  it.each([
    ['a list', '- a\n- b\n'],
    ['empty', ''],
    ['a scalar', 'hello\n'],
  ])('when the document is %s, not a mapping, then it is one root problem', (_name, text) => {
    expect(problemsOf(() => loadConfig(text)).map((p) => p.path)).toEqual([''])
  })

  it('when a mapping repeats a key at the top level, then it is refused with the line of the duplicate', () => {
    const problems = problemsOf(() => loadConfig(`${VALID_YAML}rules: []\n`))
    expect(problems).toHaveLength(1)
    expect(problems[0]?.path).toBe('')
    expect(problems[0]?.message).toMatch(/unique.*line 16/)
  })

  it('when a nested mapping repeats a key, then it is refused (the last value must not silently win)', () => {
    const text = `server:\n  port: 8080\n  port: 9090\n${VALID_YAML}`
    const problems = problemsOf(() => loadConfig(text))
    expect(problems).toHaveLength(1)
    expect(problems[0]?.message).toMatch(/unique.*line 3/)
  })

  it('when the YAML is syntactically broken, then it is a ConfigError, not a parser exception', () => {
    expect(problemsOf(() => loadConfig('server: [\n')).length).toBeGreaterThan(0)
  })

  it('when the YAML is an alias bomb, then it is a ConfigError, not a crash', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      '',
    ].join('\n')
    expect(problemsOf(() => loadConfig(bomb + VALID_YAML)).map((p) => p.path)).toEqual([''])
  })

  it('when a config has five separate mistakes, then all five are reported at once, each with its path', () => {
    const text = `server:
  trustProxyHops: true
  cors: { origins: ["*"] }
limits:
  perip: { limit: 10 }
issuers:
  - id: corp
    issuer: https://id.example.com/
    audiences: [sts-vend]
    jwksUri: https://id.example.com/.well-known/jwks.json
    algorithms: [RS256, none]
rules:
  - id: app-users
    issuer: crop
    roleArn: acs:ram::1234567890123456:role/oss-app-user
    oss: { bucket: examplebucket, region: cn-hangzhou, prefix: "users/\${sub}/", access: read }
`
    let error: ConfigError | undefined
    try {
      loadConfig(text)
    } catch (err) {
      error = err as ConfigError
    }
    expect(error).toBeInstanceOf(ConfigError)
    const paths = [
      'issuers[0].algorithms[1]',
      'limits',
      'rules[0].issuer',
      'server.cors.origins[0]',
      'server.trustProxyHops',
    ]
    expect(error?.problems.map((p) => p.path).sort()).toEqual(paths)
    for (const path of paths) expect(error?.message).toContain(`  ${path}: `)
    expect(error?.message).toMatch(/^invalid config \(5 problems\)/)
  })
})

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('when the file holds a valid config, then it loads', () => {
    const file = join(dir, 'ok.yaml')
    writeFileSync(file, VALID_YAML)
    expect(loadConfigFile(file).rules[0]?.id).toBe('app-users')
  })

  it('when the file does not exist, then it is a ConfigError naming the file and the reason', () => {
    const file = join(dir, 'missing.yaml')
    const problems = problemsOf(() => loadConfigFile(file))
    expect(problems).toEqual([{ path: '', message: `cannot read ${file}: ENOENT` }])
  })

  it('when the path is a directory, then it is a ConfigError too', () => {
    expect(problemsOf(() => loadConfigFile(dir))).toEqual([
      { path: '', message: `cannot read ${dir}: EISDIR` },
    ])
  })
})
