import { describe, expect, it } from 'vitest'
import { UpstreamError, UpstreamUnavailable } from '../../../src/errors.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { createResilientAssumeRole, type StsCallOutcome } from '../../../src/sts/resilient-call.ts'
import { DEFAULT_RETRY, retryDelayMs } from '../../../src/sts/retry.ts'
import type { AssumeRoleInput, StsCredentials } from '../../../src/types.ts'

const input: AssumeRoleInput = {
  roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
  roleSessionName: 'app-alice',
  policy:
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"POLICY-SENTINEL"}]}',
  durationSeconds: 900,
}
const credentials: StsCredentials = {
  accessKeyId: 'STS.k',
  accessKeySecret: 'SECRET-SENTINEL',
  securityToken: 'TOKEN-SENTINEL',
  expiration: new Date(Date.now() + 900_000),
  requestId: 'RID-OK',
}

const sdkError = (name: string, code: string, statusCode?: number, retryAfter?: number) =>
  Object.assign(new Error(`${code}: POST http://sts/?Policy=${encodeURIComponent(input.policy)} failed`), {
    name,
    code,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
    requestId: 'RID-ERR',
  })
const throttle = (retryAfter?: number) => sdkError('ThrottlingError', 'Throttling.User', 400, retryAfter)
const serverError = () => sdkError('ServerError', 'InternalError', 500)

function setup(script: Array<Error | 'ok'>, options: { maxAttempts?: number; threshold?: number } = {}) {
  let t = 0
  const calls: number[] = []
  const sleeps: number[] = []
  const outcomes: StsCallOutcome[] = []
  const states: string[] = []
  const { logger, raw } = createCapturingLogger()
  const assumeRole = createResilientAssumeRole({
    attempt: async () => {
      calls.push(t)
      const step = script[calls.length - 1] ?? script.at(-1)
      if (step === 'ok' || step === undefined) return credentials
      throw step
    },
    maxAttempts: options.maxAttempts ?? 3,
    maxCallsPerSecond: 1000,
    logger,
    observer: { call: (o) => outcomes.push(o), breaker: (s) => states.push(s) },
    breaker: { failureThreshold: options.threshold ?? 5, openMs: 10_000 },
    clock: () => t,
    sleep: async (ms) => {
      sleeps.push(ms)
      t += ms
    },
    random: () => 0.5,
  })
  return { assumeRole, calls, sleeps, outcomes, states, raw, advance: (ms: number) => (t += ms) }
}

describe('resilient AssumeRole', () => {
  it('when 2 throttles come before a success with maxAttempts 3, then it succeeds after exactly 3 calls', async () => {
    const s = setup([throttle(), throttle(), 'ok'])
    await expect(s.assumeRole(input)).resolves.toBe(credentials)
    expect(s.calls).toHaveLength(3)
    expect(s.outcomes).toEqual(['throttled', 'throttled', 'success'])
  })

  it('when 3 throttles come with maxAttempts 3, then upstream_unavailable after exactly 3 calls', async () => {
    const s = setup([throttle(), throttle(), throttle()])
    const err = await s.assumeRole(input).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamUnavailable)
    expect(s.calls).toHaveLength(3)
  })

  it.each([
    ['a 5xx', serverError()],
    ['a reset connection', sdkError('Error', 'ECONNRESET')],
    ['a read timeout', sdkError('RequestTimeoutError', 'RequestTimeoutError')],
    ['an unparseable body', new SyntaxError('Unexpected token <')],
  ])('when every call fails with %s, then upstream_unavailable after maxAttempts calls', async (_, err) => {
    const s = setup([err], { maxAttempts: 4 })
    await expect(s.assumeRole(input)).rejects.toMatchObject({ code: 'upstream_unavailable' })
    expect(s.calls).toHaveLength(4)
  })

  it.each([
    ['NoPermission', 403],
    ['EntityNotExist.Role', 404],
    ['InvalidParameter.PolicyGrammar', 400],
    ['SignatureDoesNotMatch', 400],
  ])('when STS refuses with %s, then upstream_error after one call, never retried', async (code, status) => {
    const s = setup([sdkError('ClientError', code, status)])
    const err = await s.assumeRole(input).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamError)
    expect(s.calls).toHaveLength(1)
    expect(s.outcomes).toEqual(['error'])
    expect(
      s.raw.some((line) => line.includes(`"code":"${code}"`) && line.includes(`"status_code":${status}`)),
    ).toBe(true)
  })

  it('when STS answers something untrustworthy (UpstreamError from parsing), then it is not retried', async () => {
    const s = setup([new UpstreamError({ reason: 'AssumedRoleUser.Arn names another role' })])
    await expect(s.assumeRole(input)).rejects.toBeInstanceOf(UpstreamError)
    expect(s.calls).toHaveLength(1)
  })

  it('when waits are computed, then they are full jitter: uniform below a doubling ceiling', () => {
    expect(retryDelayMs(1, DEFAULT_RETRY, null, () => 0.999)).toBe(99)
    expect(retryDelayMs(2, DEFAULT_RETRY, null, () => 0.5)).toBe(100)
    expect(retryDelayMs(10, DEFAULT_RETRY, null, () => 0.999)).toBe(999)
    expect(retryDelayMs(1, DEFAULT_RETRY, null, () => 0)).toBe(0)
  })

  it('when STS sends x-acs-retry-after, then the wait before the retry is at least that long', async () => {
    const s = setup([throttle(700), 'ok'])
    await s.assumeRole(input)
    expect(s.sleeps).toEqual([700])
    expect(s.calls[1]! - s.calls[0]!).toBeGreaterThanOrEqual(700)
  })

  it('when x-acs-retry-after asks for more than maxRetryWaitMs, then no hour-long sleep: 503 at once with Retry-After capped at 60 s', async () => {
    const s = setup([throttle(3_600_000), 'ok'])
    const err = await s.assumeRole(input).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'upstream_unavailable', retryAfterSeconds: 60 })
    expect(s.calls).toHaveLength(1)
    expect(s.sleeps).toEqual([])
  })

  it('when the last failure carried a retry-after, then Retry-After reflects it (in whole seconds, at least 1)', async () => {
    const s = setup([throttle(1500)], { maxAttempts: 2 })
    await expect(s.assumeRole(input)).rejects.toMatchObject({ retryAfterSeconds: 2 })
  })

  it('when STS keeps failing, then the breaker opens, calls stop, it probes after the open time and closes on success', async () => {
    const s = setup([serverError(), serverError(), serverError(), 'ok'], { maxAttempts: 1, threshold: 3 })
    for (let i = 0; i < 3; i++)
      await expect(s.assumeRole(input)).rejects.toMatchObject({ code: 'upstream_unavailable' })
    expect(s.states).toEqual(['open'])
    const fastFail = await s.assumeRole(input).catch((e: unknown) => e)
    expect(fastFail).toMatchObject({ code: 'upstream_unavailable', retryAfterSeconds: 10 })
    expect(s.calls).toHaveLength(3)
    expect(s.outcomes.at(-1)).toBe('rejected')
    s.advance(10_000)
    await expect(s.assumeRole(input)).resolves.toBe(credentials)
    expect(s.states).toEqual(['open', 'half_open', 'closed'])
    expect(s.calls).toHaveLength(4)
  })

  it('when the breaker opens during retries, then the remaining attempts are not made', async () => {
    const s = setup([serverError()], { maxAttempts: 5, threshold: 2 })
    await expect(s.assumeRole(input)).rejects.toMatchObject({ code: 'upstream_unavailable' })
    expect(s.calls).toHaveLength(2)
  })

  it('when anything fails, then no log line holds the SDK message, the policy, the secret or the token', async () => {
    const s = setup([throttle(), serverError(), sdkError('ClientError', 'NoPermission', 403)])
    await s.assumeRole(input).catch(() => undefined)
    const ok = setup(['ok'])
    await ok.assumeRole(input)
    const lines = [...s.raw, ...ok.raw]
    expect(lines.length).toBeGreaterThanOrEqual(4)
    for (const line of lines) {
      for (const sentinel of [
        'POLICY-SENTINEL',
        'SECRET-SENTINEL',
        'TOKEN-SENTINEL',
        'http://sts/',
        'Policy=',
      ]) {
        expect(line).not.toContain(sentinel)
      }
    }
  })
})
