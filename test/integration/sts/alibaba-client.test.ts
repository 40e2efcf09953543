// createAlibabaStsClient (the real @alicloud/sts20150401 SDK) and createStsService against the emulator on 127.0.0.1.
import { createHash } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Config } from '../../../src/config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  DEV_ROOT_ACCESS_KEY,
  type Emulator,
  type FaultInput,
  PARTNER_ACCESS_KEY,
  PARTNER_EXTERNAL_ID,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { RootIdentityRefused } from '../../../src/errors.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import {
  type AlibabaStsClientOptions,
  type CredentialCacheKey,
  createAlibabaStsClient,
  createStsService,
  type StsCallOutcome,
} from '../../../src/sts/index.ts'
import type { AssumeRoleInput } from '../../../src/types.ts'
import { staticCredential } from '../../fixtures/emulator-sdk.ts'
import { deadPort } from '../../fixtures/ports.ts'

const policy = JSON.stringify({
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['oss:GetObject', 'oss:PutObject'],
      Resource: ['acs:oss:*:*:examplebucket/users/policy-sentinel-7f3a/*'],
    },
  ],
})
const input: AssumeRoleInput = {
  roleArn: DEFAULT_ROLE_ARNS.appUser,
  roleSessionName: 'app-alice',
  policy,
  durationSeconds: 900,
}
const keyFor = (i: AssumeRoleInput, subject = 'alice'): CredentialCacheKey => ({
  issuerId: 'corp',
  subject,
  roleArn: i.roleArn,
  sessionName: i.roleSessionName,
  policySha256: createHash('sha256').update(i.policy).digest('hex'),
  externalId: i.externalId ?? null,
  durationSeconds: i.durationSeconds,
})

let emulator: Emulator
const captured = createCapturingLogger()
const issuedSecrets: string[] = []

beforeAll(async () => {
  emulator = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG })
})
afterAll(async () => {
  await emulator.close()
  // Every line any client of this file logged: no secret, token or policy text, in any encoding.
  expect(captured.raw.length).toBeGreaterThan(10)
  const sentinels = [
    DEV_ACCESS_KEY.secret,
    DEV_ROOT_ACCESS_KEY.secret,
    PARTNER_ACCESS_KEY.secret,
    policy,
    'policy-sentinel-7f3a',
    encodeURIComponent(policy),
    ...issuedSecrets,
  ]
  for (const line of captured.raw) for (const s of sentinels) expect(line).not.toContain(s)
})
beforeEach(() => {
  emulator.faults.clear()
  emulator.clock.setOffsetSeconds(0)
})

function stsConfig(overrides: Partial<Config['sts']> = {}): Config['sts'] {
  return {
    endpoint: emulator.endpoint,
    protocol: 'http',
    region: 'cn-hangzhou',
    connectTimeoutMs: 1000,
    readTimeoutMs: 1000,
    maxAttempts: 3,
    maxCallsPerSecond: 80,
    ...overrides,
  }
}

function client(
  overrides: Partial<Config['sts']> = {},
  options: Partial<AlibabaStsClientOptions> & { key?: { id: string; secret: string } } = {},
) {
  const outcomes: StsCallOutcome[] = []
  const states: string[] = []
  const key = options.key ?? DEV_ACCESS_KEY
  const sts = createAlibabaStsClient({
    sts: stsConfig(overrides),
    logger: captured.logger,
    credential: staticCredential({ accessKeyId: key.id, secret: key.secret }),
    observer: { call: (o) => outcomes.push(o), breaker: (s) => states.push(s) },
    retry: { baseDelayMs: 20, maxDelayMs: 50 },
    ...options,
  })
  return { sts, outcomes, states }
}

const calls = () => emulator.counters.snapshot().assumeRoleCalls
async function counted<T>(run: () => Promise<T>): Promise<{ result: T | unknown; calls: number }> {
  const before = calls()
  const result = await run().catch((err: unknown) => err)
  return { result, calls: calls() - before }
}
const lastLogFor = (code: string) =>
  captured.lines.filter((l) => l['event'] === 'sts.call' && l['code'] === code).at(-1)

describe('AssumeRole through the real SDK', () => {
  it('when the role is assumed, then the credentials are real-shaped and the exact policy reached STS', async () => {
    const { sts, outcomes } = client()
    const c = await sts.assumeRole(input)
    issuedSecrets.push(c.accessKeySecret, c.securityToken)
    expect(c.accessKeyId).toMatch(/^STS\./)
    expect(c.expiration.getTime() - Date.now()).toBeGreaterThan(890_000)
    expect(c.requestId).toMatch(/^[0-9A-F-]{36}$/)
    expect(emulator.sessions.get(c.accessKeyId)?.policy).toBe(policy)
    expect(emulator.counters.snapshot().last?.Policy).toBe(policy)
    expect(outcomes).toEqual(['success'])
  })

  it('when the service assumes the partner role with its ExternalId, then it gets cross-account credentials', async () => {
    const c = await client().sts.assumeRole({
      ...input,
      roleArn: DEFAULT_ROLE_ARNS.partner,
      externalId: PARTNER_EXTERNAL_ID,
    })
    issuedSecrets.push(c.accessKeySecret, c.securityToken)
    expect(emulator.sessions.get(c.accessKeyId)?.accountId).toBe('1000000000000002')
  })

  it.each<[string, string, number, Partial<AssumeRoleInput>, { id: string; secret: string }]>([
    ['a wrong AccessKey id', 'InvalidAccessKeyId.NotFound', 404, {}, { id: 'LTAIunknownKey99', secret: 'x' }],
    ['a wrong secret', 'SignatureDoesNotMatch', 400, {}, { id: DEV_ACCESS_KEY.id, secret: 'wrongSecret01' }],
    ['an untrusted caller', 'NoPermission', 403, {}, PARTNER_ACCESS_KEY],
    [
      'an unknown role',
      'EntityNotExist.Role',
      404,
      { roleArn: 'acs:ram::1000000000000001:role/gone' },
      DEV_ACCESS_KEY,
    ],
    [
      'the partner role without ExternalId',
      'NoPermission',
      403,
      { roleArn: DEFAULT_ROLE_ARNS.partner },
      DEV_ACCESS_KEY,
    ],
    [
      'the partner role with a wrong ExternalId',
      'NoPermission',
      403,
      { roleArn: DEFAULT_ROLE_ARNS.partner, externalId: 'not-the-one' },
      DEV_ACCESS_KEY,
    ],
    [
      'a session name of 65 characters',
      'InvalidParameter.RoleSessionName',
      400,
      { roleSessionName: 'a'.repeat(65) },
      DEV_ACCESS_KEY,
    ],
    [
      'a policy of 2049 characters',
      'InvalidParameter.PolicySize',
      400,
      { policy: policy.replace('users/', `users/${'x'.repeat(2049 - policy.length)}`) },
      DEV_ACCESS_KEY,
    ],
    [
      'a policy outside the grammar',
      'InvalidParameter.PolicyGrammar',
      400,
      { policy: '{"Version":"1","Statement":[{"Effect":"Allow"}]}' },
      DEV_ACCESS_KEY,
    ],
    [
      'a duration above the role max',
      'InvalidParameter.DurationSeconds',
      400,
      { durationSeconds: 7200 },
      DEV_ACCESS_KEY,
    ],
    [
      'an ExternalId of one character',
      'InvalidParameter.ExternalId',
      400,
      { externalId: 'x' },
      DEV_ACCESS_KEY,
    ],
  ])(
    'when called with %s, then upstream_error after 1 call, logged as %s (%i)',
    async (_, code, status, change, key) => {
      const { sts, outcomes } = client({}, { key })
      const { result, calls: n } = await counted(() => sts.assumeRole({ ...input, ...change }))
      expect(result).toMatchObject({ code: 'upstream_error', status: 502 })
      expect(n).toBe(1)
      expect(outcomes).toEqual(['error'])
      expect(lastLogFor(code)).toMatchObject({ status_code: status, outcome: 'error' })
      expect(lastLogFor(code)?.['request_id']).toMatch(/^[0-9A-F-]{36}$/)
    },
  )

  it('when our clock and STS disagree by 20 minutes, then InvalidTimeStamp.Expired is an upstream_error, not retried', async () => {
    emulator.clock.setOffsetSeconds(1200)
    const { result, calls: n } = await counted(() => client().sts.assumeRole(input))
    expect(result).toMatchObject({ code: 'upstream_error' })
    expect(n).toBe(1)
    expect(lastLogFor('InvalidTimeStamp.Expired')).toMatchObject({ status_code: 400 })
  })

  it('when the input has no Policy, then TypeError and no call (never the role’s full rights)', async () => {
    const { result, calls: n } = await counted(() => client().sts.assumeRole({ ...input, policy: '' }))
    expect(result).toBeInstanceOf(TypeError)
    expect(n).toBe(0)
  })
})

describe('retries (maxAttempts 3)', () => {
  it('when 2 throttles come before a success, then it succeeds after exactly 3 calls', async () => {
    emulator.faults.add([{ kind: 'throttle', count: 2 }])
    const { sts, outcomes } = client()
    const { result, calls: n } = await counted(() => sts.assumeRole(input))
    expect(result).toMatchObject({ accessKeyId: expect.stringMatching(/^STS\./) })
    expect(n).toBe(3)
    expect(outcomes).toEqual(['throttled', 'throttled', 'success'])
  })

  it.each<[string, FaultInput]>([
    ['3 throttles', { kind: 'throttle', count: 3 }],
    ['3 server errors', { kind: 'server_error', count: 3 }],
    ['3 503s', { kind: 'server_error', status: 503, code: 'ServiceUnavailable', count: 3 }],
    ['3 connection resets', { kind: 'reset', count: 3 }],
    ['3 malformed bodies', { kind: 'malformed', count: 3 }],
    ['3 HTML 502s', { kind: 'malformed', status: 502, count: 3 }],
    ['3 answers slower than readTimeout', { kind: 'delay', delayMs: 1500, count: 3 }],
  ])('when STS answers %s, then upstream_unavailable after exactly 3 calls', async (_, fault) => {
    emulator.faults.add([fault])
    const { result, calls: n } = await counted(() => client({ readTimeoutMs: 300 }).sts.assumeRole(input))
    expect(result).toMatchObject({ code: 'upstream_unavailable', status: 503 })
    expect((result as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect(n).toBe(3)
  })

  it('when a throttle carries x-acs-retry-after, then the next call waits at least that long', async () => {
    emulator.faults.add([{ kind: 'throttle', retryAfterMs: 400 }])
    const waits: number[] = []
    const { sts } = client(
      {},
      {
        sleep: async (ms) => {
          waits.push(ms)
          await new Promise((resolve) => setTimeout(resolve, ms))
        },
      },
    )
    const started = Date.now()
    await sts.assumeRole(input)
    expect(waits[0]).toBeGreaterThanOrEqual(400)
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
  })

  it('when STS listens nowhere (ECONNREFUSED), then upstream_unavailable within the attempts', async () => {
    const endpoint = `127.0.0.1:${await deadPort()}`
    const started = Date.now()
    const result = await client({ endpoint })
      .sts.assumeRole(input)
      .catch((e: unknown) => e)
    expect(result).toMatchObject({ code: 'upstream_unavailable' })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(lastLogFor('ECONNREFUSED')).toMatchObject({ outcome: 'unavailable' })
  })
})

describe('circuit breaker', () => {
  it('when STS is down, then the breaker opens and calls stop; once STS is back it probes and closes', async () => {
    let t = Date.now()
    const { sts, states, outcomes } = client(
      { maxAttempts: 1 },
      { now: () => new Date(t), breaker: { failureThreshold: 3, openMs: 5000 } },
    )
    emulator.faults.add([{ kind: 'server_error', count: 1000 }])
    for (let i = 0; i < 3; i++)
      await expect(sts.assumeRole(input)).rejects.toMatchObject({ code: 'upstream_unavailable' })
    expect(states).toEqual(['open'])

    const before = calls()
    for (let i = 0; i < 5; i++) {
      const err = await sts.assumeRole(input).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'upstream_unavailable', retryAfterSeconds: 5 })
    }
    expect(calls() - before).toBe(0)
    expect(outcomes.slice(-5)).toEqual(Array(5).fill('rejected'))

    emulator.faults.clear()
    t += 5000
    const c = await sts.assumeRole(input)
    issuedSecrets.push(c.accessKeySecret, c.securityToken)
    expect(states).toEqual(['open', 'half_open', 'closed'])
    expect(calls() - before).toBe(1)
  })
})

describe('credential cache over the real client', () => {
  it('when 100 identical requests arrive together, then STS gets exactly 1 AssumeRole', async () => {
    const service = createStsService({
      client: client().sts,
      cache: { maxEntries: 100, minRemainingSeconds: 300 },
    })
    const { result, calls: n } = await counted(() =>
      Promise.all(Array.from({ length: 100 }, () => service.issue(keyFor(input), input))),
    )
    const results = result as Awaited<ReturnType<typeof service.issue>>[]
    expect(n).toBe(1)
    expect(new Set(results.map((r) => r.credentials.accessKeyId)).size).toBe(1)
    expect(results.filter((r) => r.cache === 'miss')).toHaveLength(1)
    issuedSecrets.push(results[0]!.credentials.accessKeySecret, results[0]!.credentials.securityToken)
  })

  it.each([
    ['599 s later (301 s left)', 'hit', 0, 599],
    ['600 s later (300 s left, not more than minRemainingSeconds)', 'miss', 1, 600],
  ])(
    'when the same key is asked %s, then it is a %s with %i new AssumeRole',
    async (_, cache, extra, elapsed) => {
      // Our clock and the emulator's move together, as they would in production. After the first answer
      // ours reads exactly (its Expiration − 900 s) + elapsed, so a slow call or a second boundary between
      // the two clocks cannot move the time left across minRemainingSeconds.
      let offset = 0
      let issuedAt: number | undefined
      const now = () => new Date((issuedAt ?? Date.now()) + offset * 1000)
      const service = createStsService({
        client: client({}, { now }).sts,
        cache: { maxEntries: 100, minRemainingSeconds: 300 },
        now,
      })
      const first = await service.issue(keyFor(input, `later-${elapsed}`), input)
      issuedSecrets.push(first.credentials.accessKeySecret, first.credentials.securityToken)
      issuedAt = first.credentials.expiration.getTime() - input.durationSeconds * 1000
      offset = elapsed
      emulator.clock.setOffsetSeconds(elapsed)
      const { result, calls: n } = await counted(() =>
        service.issue(keyFor(input, `later-${elapsed}`), input),
      )
      const second = result as Awaited<ReturnType<typeof service.issue>>
      expect(second.cache).toBe(cache)
      expect(n).toBe(extra)
      expect(second.credentials.accessKeyId === first.credentials.accessKeyId).toBe(cache === 'hit')
    },
  )

  it('when STS fails, then nothing is cached and the next request calls STS again', async () => {
    const service = createStsService({
      client: client({ maxAttempts: 1 }).sts,
      cache: { maxEntries: 100, minRemainingSeconds: 300 },
    })
    emulator.faults.add([{ kind: 'server_error' }])
    await expect(service.issue(keyFor(input, 'fails'), input)).rejects.toMatchObject({
      code: 'upstream_unavailable',
    })
    const { result, calls: n } = await counted(() => service.issue(keyFor(input, 'fails'), input))
    expect(result).toMatchObject({ cache: 'miss' })
    expect(n).toBe(1)
  })

  it.each<[string, FaultInput]>([
    ['a body without SecurityToken', { kind: 'partial' }],
    ['an Expiration that is not a date', { kind: 'badExpiration' }],
    ['an Expiration a year away', { kind: 'badExpiration', expiration: '2099-01-01T00:00:00Z' }],
    ['an AssumedRoleUser of another role', { kind: 'wrongRole' }],
  ])('when STS answers 200 with %s, then upstream_error, nothing cached, not retried', async (_, fault) => {
    const service = createStsService({
      client: client().sts,
      cache: { maxEntries: 100, minRemainingSeconds: 300 },
    })
    emulator.faults.add([fault])
    const { result, calls: n } = await counted(() => service.issue(keyFor(input, 'bent'), input))
    expect(result).toMatchObject({ code: 'upstream_error' })
    expect(n).toBe(1)
    expect(service.stats().size).toBe(0)
  })
})

describe('the service identity from the default credential chain', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })
  const isolate = () => {
    vi.stubEnv('HOME', mkdtempSync(join(tmpdir(), 'sts-vend-home-')))
    vi.stubEnv('ALIBABA_CLOUD_ECS_METADATA_DISABLED', 'true')
    vi.stubEnv('ALIBABA_CLOUD_CLI_PROFILE_DISABLED', 'true')
    for (const name of [
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      'ALIBABA_CLOUD_SECURITY_TOKEN',
      'ALIBABA_CLOUD_CREDENTIALS_FILE',
      'ALIBABA_CLOUD_CREDENTIALS_URI',
      'ALIBABA_CLOUD_ROLE_ARN',
      'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
      'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    ])
      vi.stubEnv(name, undefined)
  }
  const fromChain = () =>
    createAlibabaStsClient({
      sts: stsConfig(),
      logger: captured.logger,
      retry: { baseDelayMs: 20, maxDelayMs: 50 },
    })

  it('when ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET are set, then the chain signs with them and AssumeRole succeeds', async () => {
    isolate()
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', DEV_ACCESS_KEY.id)
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', DEV_ACCESS_KEY.secret)
    const sts = fromChain()
    await expect(sts.checkIdentity()).resolves.toBeUndefined()
    const c = await sts.assumeRole(input)
    issuedSecrets.push(c.accessKeySecret, c.securityToken)
    expect(emulator.sessions.get(c.accessKeyId)?.callerAccessKeyId).toBe(DEV_ACCESS_KEY.id)
  })

  it('when the chain finds no identity, then checkIdentity and AssumeRole give upstream_unavailable', async () => {
    isolate()
    const sts = fromChain()
    await expect(sts.checkIdentity()).rejects.toMatchObject({ code: 'upstream_unavailable' })
    const { result, calls: n } = await counted(() => sts.assumeRole(input))
    expect(result).toMatchObject({ code: 'upstream_unavailable' })
    expect(n).toBe(0)
  })
})

describe('GetCallerIdentity and SourceIdentity through the real SDK (design §14)', () => {
  it('when the service key is a RAM user, then getCallerIdentity answers RAMUser and checkIdentity resolves', async () => {
    const { sts } = client()
    await expect(sts.getCallerIdentity()).resolves.toMatchObject({
      identityType: 'RAMUser',
      arn: `acs:ram::${DEV_ACCOUNT_ID}:user/sts-vend`,
      accountId: DEV_ACCOUNT_ID,
    })
    await expect(sts.checkIdentity()).resolves.toBeUndefined()
  })

  it('when the service key is the root account key, then getCallerIdentity answers Account and checkIdentity refuses it', async () => {
    const { sts } = client({}, { key: DEV_ROOT_ACCESS_KEY })
    await expect(sts.getCallerIdentity()).resolves.toMatchObject({
      identityType: 'Account',
      arn: `acs:ram::${DEV_ACCOUNT_ID}:root`,
    })
    const refused = await sts.checkIdentity().catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(RootIdentityRefused)
    expect(String((refused as Error).message)).toMatch(/RAM user.*RRSA.*ECS RAM role/)
    const { result } = await counted(() => sts.assumeRole(input))
    expect(result).toMatchObject({ code: 'upstream_error' })
  })

  it('when STS is unreachable, then getCallerIdentity gives upstream_unavailable', async () => {
    const { sts } = client({ endpoint: '127.0.0.1:9', connectTimeoutMs: 300, readTimeoutMs: 300 })
    await expect(sts.getCallerIdentity()).rejects.toMatchObject({ code: 'upstream_unavailable' })
  })

  it('when an AssumeRole carries a SourceIdentity, then the emulator receives it and keeps it in the session', async () => {
    const { sts } = client()
    const c = await sts.assumeRole({ ...input, sourceIdentity: 'alice@example.com' })
    issuedSecrets.push(c.accessKeySecret, c.securityToken)
    expect(emulator.counters.snapshot().last?.SourceIdentity).toBe('alice@example.com')
    expect(emulator.sessions.get(c.accessKeyId)?.sourceIdentity).toBe('alice@example.com')
  })
})
