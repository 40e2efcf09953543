// Group 2d of security-cases.md: STS faults injected in the emulator, through the real app and the real Alibaba SDK.
import { createServer } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FaultInput } from '../../src/emulator/index.ts'
import { createAlibabaStsClient } from '../../src/sts/index.ts'
import { expectIssued, expectNoSentinel, expectRefused, send } from '../fixtures/refusals.ts'
import { goodSpec } from './catalogue.ts'
import { listenLocal } from './net.ts'
import { runCatalogued, sharedWorld } from './run-catalogue.ts'
import { type AppOptions, buildSecApp, freshSub, type SecApp } from './world.ts'

const shared = sharedWorld()
const unavailable = { status: 503, code: 'upstream_unavailable' } as const
const upstreamError = { status: 502, code: 'upstream_error' } as const
const apps: SecApp[] = []

afterEach(async () => {
  vi.useRealTimers()
  shared().world.emulator.faults.clear()
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

async function app(options: AppOptions = {}): Promise<SecApp> {
  const built = await buildSecApp(shared().world, options)
  apps.push(built)
  return built
}
const fault = (...faults: FaultInput[]) => shared().world.emulator.faults.add(faults)
/** A good request for a subject of its own (never a cache hit of another test). */
const fresh = (body: unknown = {}) => goodSpec(shared().world, body, { sub: freshSub() })
/** What no log line may show of a failed AssumeRole: the URL, its signature and the policy. */
const URL_PARTS = [
  'Policy=',
  '%22Statement%22',
  'Signature=',
  'SecurityToken=',
  'x-acs-security-token',
  '"Statement"',
]

function expectNoUrlInLog(sec: SecApp): void {
  const text = sec.raw.join('\n')
  for (const part of URL_PARTS) expect(text).not.toContain(part)
}

describe('2d upstream (STS) faults', () => {
  runCatalogued('upstream', shared)

  it('SEC-101 persistent throttling: 3 calls honouring retry-after, then 503 with Retry-After, nothing cached', async () => {
    const { world } = shared()
    const sec = await app()
    fault({ kind: 'throttle', count: 3, retryAfterMs: 2 })
    const spec = await fresh()
    const probe = await send(world, sec, spec)
    await expectRefused(probe, { ...unavailable, calls: 3 })
    expectNoUrlInLog(sec)
    await expectIssued(await send(world, sec, spec), { calls: 1 })
  })

  it('SEC-102 two throttles then success: 200 after exactly 3 calls', async () => {
    const { world } = shared()
    const sec = await app()
    fault({ kind: 'throttle', count: 2 })
    const probe = await send(world, sec, await fresh())
    await expectIssued(probe, { calls: 3 })
    expect(world.emulator.counters.snapshot().assumeRoleCalls - probe.before.calls).toBe(3)
  })

  it('SEC-103 x-acs-retry-after of an hour: no long sleep, 503 with a capped Retry-After', async () => {
    const { world } = shared()
    const sec = await app()
    fault({ kind: 'throttle', count: 3, retryAfterMs: 3_600_000 })
    const probe = await send(world, sec, await fresh())
    await expectRefused(probe, { ...unavailable, calls: 1 })
    expect(probe.ms).toBeLessThan(2000)
    expect(Number(probe.res.headers['retry-after'])).toBeLessThanOrEqual(3600)
    world.emulator.faults.clear()
    await expectIssued(await send(world, sec, await fresh()))
  })

  it('SEC-105 a response delayed past the read timeout (bounded: 300 ms instead of 5 s): bounded total, 503, no URL in the log', async () => {
    const { world } = shared()
    const sec = await app({ patch: (d) => Object.assign(d['sts'], { readTimeoutMs: 300 }) })
    fault({ kind: 'delay', count: 3, delayMs: 30_000 })
    const probe = await send(world, sec, await fresh())
    await expectRefused(probe, { ...unavailable, calls: 3 })
    // Three read timeouts and two short backoffs, far from the 30 s the answers are held (the last term is
    // room for a loaded runner, not for a fourth wait).
    expect(probe.ms).toBeLessThan(3 * 300 + 3 * 40 + 3000)
    expectNoUrlInLog(sec)
    // With a 300 ms read timeout a loaded runner may time out a healthy call too: up to 3 calls.
    await expectIssued(await send(world, sec, await fresh()), { calls: 3 })
  })

  it('SEC-106 ECONNREFUSED and ECONNRESET: at most 3 calls, 503', async () => {
    const { world } = shared()
    const closed = await app({ patch: (d) => Object.assign(d['sts'], { endpoint: '127.0.0.1:1' }) })
    await expectRefused(await send(world, closed, await fresh()), unavailable)
    expectNoUrlInLog(closed)
    const sec = await app()
    fault({ kind: 'reset', count: 3 })
    await expectRefused(await send(world, sec, await fresh()), { ...unavailable, calls: { max: 3 } })
    expectNoUrlInLog(sec)
    await expectIssued(await send(world, sec, await fresh()))
  })

  it('SEC-107 an unresolvable STS endpoint: 503, /readyz 503, no tight loop', async () => {
    const { world } = shared()
    const sec = await app({
      patch: (d) => Object.assign(d['sts'], { endpoint: 'sts.invalid', protocol: 'https' }),
    })
    const probe = await send(world, sec, await fresh())
    await expectRefused(probe, unavailable)
    expect(probe.ms).toBeLessThan(3000)
    const ready = await sec.agent().get('/readyz')
    expect(ready.status).toBe(503)
    const healthy = await app()
    expect((await healthy.agent().get('/readyz')).status).toBe(200)
    await expectIssued(await send(world, healthy, await fresh()))
  })

  it('SEC-109 answers without SecurityToken, with a non-STS key id or an empty secret are 502, not cached', async () => {
    const { world } = shared()
    const sec = await app()
    fault({ kind: 'partial' })
    const spec = await fresh()
    await expectRefused(await send(world, sec, spec), { ...upstreamError, calls: 1 })
    await expectIssued(await send(world, sec, spec), { calls: 1 })
    // A wire stub that answers every AssumeRole with the given credentials.
    for (const credentials of [
      { AccessKeyId: 'LTAInotAnStsKey', AccessKeySecret: 'stub-secret-1', SecurityToken: 'CAISstub' },
      { AccessKeyId: 'STS.stubKey', AccessKeySecret: '', SecurityToken: 'CAISstub' },
    ]) {
      const stub = createServer((req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams
        const role = params.get('RoleArn') ?? ''
        const session = params.get('RoleSessionName') ?? ''
        res.setHeader('Content-Type', 'application/json')
        res.end(
          JSON.stringify({
            RequestId: 'STUB-1',
            AssumedRoleUser: { Arn: `${role}/${session}`, AssumedRoleId: '300:x' },
            Credentials: {
              ...credentials,
              Expiration: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            },
          }),
        )
      })
      const local = await listenLocal(stub)
      try {
        const viaStub = await app({
          patch: (d) => Object.assign(d['sts'], { endpoint: `127.0.0.1:${local.port}` }),
        })
        const probe = await send(world, viaStub, await fresh())
        await expectRefused(probe, upstreamError)
        expectNoSentinel(viaStub.raw.join('\n'), ['stub-secret-1', 'CAISstub'], 'the log')
      } finally {
        await local.close()
      }
    }
  })

  it('SEC-110 bad Expiration values are 502; the millisecond form is accepted and re-emitted without ms', async () => {
    const { world } = shared()
    const sec = await app()
    const at = (seconds: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + seconds * 1000)
    const noMs = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
    for (const expiration of [noMs(at(-60)), noMs(at(100)), 'not-a-date', noMs(at(366 * 86400))]) {
      fault({ kind: 'badExpiration', expiration })
      const spec = await fresh()
      await expectRefused(await send(world, sec, spec), { ...upstreamError, calls: 1 })
    }
    // One instant for both sides: a second boundary between two `at(3000)` calls must not fail the test.
    const sent = at(3000)
    const withMs = sent.toISOString()
    expect(withMs).toMatch(/\.000Z$/)
    fault({ kind: 'badExpiration', expiration: withMs })
    const body = await expectIssued(await send(world, sec, await fresh()))
    expect(body['expiration']).toBe(noMs(sent))
  })

  it('SEC-111 an AssumedRoleUser of another role is 502, not cached, logged at alert level', async () => {
    const { world } = shared()
    const sec = await app()
    fault({ kind: 'wrongRole' })
    const spec = await fresh()
    await expectRefused(await send(world, sec, spec), { ...upstreamError, calls: 1 })
    expect(sec.lines.some((l) => l['level'] === 'error' && l['event'] === 'sts.call')).toBe(true)
    await expectIssued(await send(world, sec, spec), { calls: 1 })
  })

  it('SEC-113 the breaker opens after repeated failures, answers fast with no call, probes and closes', async () => {
    const { world } = shared()
    // The breaker's clock is injected: its open time passes by moving the clock, not by sleeping.
    let skewMs = 0
    const sec = await app({
      patch: (d) => Object.assign(d['sts'], { maxAttempts: 1 }),
      client: { breaker: { failureThreshold: 3, openMs: 60_000 }, now: () => new Date(Date.now() + skewMs) },
    })
    fault({ kind: 'server_error', count: 100 })
    for (let i = 0; i < 3; i++)
      await expectRefused(await send(world, sec, await fresh()), { ...unavailable, calls: 1 })
    const open = await send(world, sec, await fresh())
    // Open: refused at once, with no call to STS.
    await expectRefused(open, { ...unavailable, calls: 0 })
    world.emulator.faults.clear()
    skewMs = 60_050
    await expectIssued(await send(world, sec, await fresh()), { calls: 1 })
    await expectIssued(await send(world, sec, await fresh()), { calls: 1 })
  })

  it('SEC-114 with STS down, near-expiry cached credentials are never served; fresher ones are', async () => {
    const { world } = shared()
    const sec = await app({
      patch: (d) => {
        d['cache'] = { ...d['cache'], minRemainingSeconds: 800 }
      },
    })
    const now = new Date(Math.floor(Date.now() / 1000) * 1000)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(now)
    const spec = await fresh({ durationSeconds: 900 })
    await expectIssued(await send(world, sec, spec), { calls: 1 })
    fault({ kind: 'server_error', count: 100 })
    // 900 s left > 800: served from the cache with no call, STS down or not.
    await expectIssued(await send(world, sec, spec), { calls: 0 })
    vi.setSystemTime(new Date(now.getTime() + 200_000))
    await expectRefused(await send(world, sec, spec), { ...unavailable, calls: 3 })
  })

  it('SEC-115 an unresolvable service identity: /readyz 503 and requests 503, errors scrubbed', async () => {
    const { world } = shared()
    const base = await app()
    const client = createAlibabaStsClient({
      sts: base.config.sts,
      logger: base.adapters.deps.logger,
      credential: {
        getCredential: async () => {
          throw new Error(
            'GET http://100.100.100.200/latest/meta-data/ram/security-credentials/ secret-identity-7',
          )
        },
      } as never,
    })
    const sec = await app({ stsClient: client })
    await expectRefused(await send(world, sec, await fresh()), unavailable)
    expect((await sec.agent().get('/readyz')).status).toBe(503)
    expect(sec.raw.join('\n')).not.toContain('secret-identity-7')
    expect(sec.raw.join('\n')).not.toContain('100.100.100.200')
    await expectIssued(await send(world, base, await fresh()))
  })
})
