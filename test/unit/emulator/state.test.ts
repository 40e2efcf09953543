import { describe, expect, it } from 'vitest'
import { createNonceStore, MAX_SKEW_MS } from '../../../src/emulator/authenticate.ts'
import { createClock } from '../../../src/emulator/clock.ts'
import { createCallCounters } from '../../../src/emulator/counters.ts'
import { createFaultController } from '../../../src/emulator/faults.ts'
import { createMemorySessionStore, type IssuedSession } from '../../../src/emulator/sessions.ts'
import { createAccountThrottle } from '../../../src/emulator/throttle.ts'

describe('fault queue', () => {
  it('when faults are queued, then each applies count times in order, then the queue is empty', () => {
    const faults = createFaultController([{ kind: 'throttle', count: 2 }])
    faults.add([{ kind: 'delay', delayMs: 5 }])
    expect([faults.take()?.kind, faults.take()?.kind, faults.take()?.kind, faults.take()]).toEqual([
      'throttle',
      'throttle',
      'delay',
      undefined,
    ])
  })

  it('when one fault of a batch is invalid, then none is added', () => {
    const faults = createFaultController()
    expect(() => faults.add([{ kind: 'reset' }, { kind: 'delay' }])).toThrow()
    expect(faults.pending()).toEqual([])
  })

  it('when the queue is cleared, then nothing is pending', () => {
    const faults = createFaultController([{ kind: 'reset', count: 5 }])
    faults.clear()
    expect(faults.take()).toBeUndefined()
  })
})

describe('account throttle', () => {
  it('when an account exceeds perSecond within one second, then it is refused until the next second; others are not', () => {
    const throttle = createAccountThrottle(2)
    const t = new Date('2026-01-01T00:00:00.400Z')
    expect(throttle.admit('a', t).ok).toBe(true)
    expect(throttle.admit('a', t).ok).toBe(true)
    expect(throttle.admit('a', t)).toEqual({ ok: false, retryAfterMs: 600 })
    expect(throttle.admit('b', t).ok).toBe(true)
    expect(throttle.admit('a', new Date('2026-01-01T00:00:01.000Z')).ok).toBe(true)
  })
})

describe('nonce store', () => {
  it('when a nonce is reused within the window, then it is refused; after twice the skew window it is forgotten', () => {
    const nonces = createNonceStore()
    const t = new Date('2026-01-01T00:00:00Z')
    expect(nonces.use('n', t)).toBe(true)
    expect(nonces.use('n', new Date(t.getTime() + MAX_SKEW_MS))).toBe(false)
    expect(nonces.use('n', new Date(t.getTime() + 2 * MAX_SKEW_MS + 1))).toBe(true)
  })

  it('when the store is full, then the oldest nonces are dropped first', () => {
    const nonces = createNonceStore({ maxEntries: 2 })
    const t = new Date('2026-01-01T00:00:00Z')
    for (const n of ['a', 'b', 'c']) nonces.use(n, t)
    expect(nonces.use('c', t)).toBe(false)
    expect(nonces.use('a', t)).toBe(true)
  })
})

describe('session store', () => {
  const session = (id: string): IssuedSession => ({
    accessKeyId: id,
    accessKeySecret: 's',
    securityToken: 't',
    accountId: '1',
    roleName: 'r',
    roleArn: 'acs:ram::1:role/r',
    sessionName: 'n',
    arn: 'acs:ram::1:role/r/n',
    assumedRoleId: '1:n',
    policy: null,
    externalId: null,
    sourceIdentity: null,
    callerAccountId: '1',
    callerAccessKeyId: 'AK',
    issuedAt: new Date(0),
    expiration: new Date(1000),
  })

  it('when more than maxSessions are added, then the oldest is dropped', () => {
    const store = createMemorySessionStore({ maxSessions: 2 })
    for (const id of ['STS.a', 'STS.b', 'STS.c']) store.add(session(id))
    expect(store.size).toBe(2)
    expect(store.get('STS.a')).toBeUndefined()
    expect(store.list().map((s) => s.accessKeyId)).toEqual(['STS.b', 'STS.c'])
  })
})

describe('clock', () => {
  it('when the offset is set twice, then it is absolute, not cumulative', () => {
    const clock = createClock(() => new Date('2026-01-01T00:00:00Z'))
    clock.setOffsetSeconds(60)
    clock.setOffsetSeconds(30)
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:30.000Z')
    expect(() => clock.setOffsetSeconds(Number.NaN)).toThrow(TypeError)
  })
})

describe('call counters', () => {
  it('when requests finish, then counts are by action and outcome, with in-flight peaks and the last AssumeRole', () => {
    const counters = createCallCounters()
    const a = counters.begin(
      'AssumeRole',
      new Map([
        ['RoleArn', 'r'],
        ['Policy', 'p'],
      ]),
    )
    const b = counters.begin('AssumeRole', new Map([['RoleArn', 'r2']]))
    a('success')
    b('Throttling.User')
    b('success')
    const s = counters.snapshot()
    expect(s.calls['AssumeRole']).toEqual({ success: 1, 'Throttling.User': 1 })
    expect(s).toMatchObject({
      requests: 2,
      assumeRoleCalls: 2,
      policylessCalls: 1,
      inFlight: 0,
      inFlightMax: 2,
    })
    expect(s.last?.RoleArn).toBe('r2')
  })

  it('when an action is named __proto__, then it is counted like any other and Object.prototype is untouched', () => {
    const counters = createCallCounters()
    counters.begin('__proto__', new Map())('success')
    expect(Object.hasOwn(counters.snapshot().calls, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>)['success']).toBeUndefined()
  })
})
