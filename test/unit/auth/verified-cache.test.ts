// VerifiedTokenCache: Callers by sha256 of the token, never served past their deadline on the injected clock.
import { describe, expect, it } from 'vitest'
import { VerifiedTokenCache } from '../../../src/auth/verified-cache.ts'
import type { Caller } from '../../../src/types.ts'

const caller = (subject: string): Caller => ({
  issuerId: 'corp',
  issuer: 'https://id.example.test/',
  subject,
  claims: {},
})

function cacheWithClock(maxEntries: number) {
  const clock = { ms: 1_000_000 }
  return { clock, cache: new VerifiedTokenCache(maxEntries, () => new Date(clock.ms)) }
}

describe('VerifiedTokenCache', () => {
  it('when an entry is read before its deadline, then it is served; at the deadline, then it is gone', () => {
    const { clock, cache } = cacheWithClock(10)
    cache.set('t1', caller('alice'), clock.ms + 5_000)
    clock.ms += 4_999
    expect(cache.get('t1')?.subject).toBe('alice')
    clock.ms += 1
    expect(cache.get('t1')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('when the deadline has already passed at set time, then nothing is stored', () => {
    const { clock, cache } = cacheWithClock(10)
    cache.set('t1', caller('alice'), clock.ms)
    expect(cache.get('t1')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('when another token is asked for, then it misses (keys are per exact token)', () => {
    const { clock, cache } = cacheWithClock(10)
    cache.set('a.b.c', caller('alice'), clock.ms + 1_000)
    expect(cache.get('a.b.d')).toBeUndefined()
    expect(cache.get('a.b.c ')).toBeUndefined()
  })

  it('when more tokens than maxEntries are stored, then the least recently used goes', () => {
    const { clock, cache } = cacheWithClock(2)
    cache.set('t1', caller('one'), clock.ms + 1_000)
    cache.set('t2', caller('two'), clock.ms + 1_000)
    expect(cache.get('t1')?.subject).toBe('one')
    cache.set('t3', caller('three'), clock.ms + 1_000)
    expect(cache.size).toBe(2)
    expect(cache.get('t2')).toBeUndefined()
    expect(cache.get('t1')?.subject).toBe('one')
    expect(cache.get('t3')?.subject).toBe('three')
  })

  it('when maxEntries is 0, then nothing is ever cached', () => {
    const { clock, cache } = cacheWithClock(0)
    cache.set('t1', caller('alice'), clock.ms + 1_000)
    expect(cache.get('t1')).toBeUndefined()
    expect(cache.size).toBe(0)
  })
})
