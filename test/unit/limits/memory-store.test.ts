// The compact in-memory rate-limit store keeps express-rate-limit's MemoryStore semantics.
import type { Options } from 'express-rate-limit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CompactMemoryStore } from '../../../src/limits/memory-store.ts'

const WINDOW_MS = 60_000

describe('CompactMemoryStore', () => {
  let store: CompactMemoryStore
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') })
    store = new CompactMemoryStore()
    store.init({ windowMs: WINDOW_MS } as Options)
  })
  afterEach(() => vi.useRealTimers())

  it('when a key is hit, then its hits count up in a window that ends windowMs after its first hit', async () => {
    const first = await store.increment('a')
    expect(first.totalHits).toBe(1)
    expect(first.resetTime?.getTime()).toBe(Date.now() + WINDOW_MS)
    vi.advanceTimersByTime(10_000)
    const second = await store.increment('a')
    expect(second.totalHits).toBe(2)
    expect(second.resetTime?.getTime()).toBe(first.resetTime?.getTime())
    expect((await store.increment('b')).totalHits).toBe(1)
  })

  it('when the key window has ended, then the next hit starts a new window at 1', async () => {
    await store.increment('a')
    await store.increment('a')
    vi.advanceTimersByTime(WINDOW_MS)
    expect(await store.get('a')).toBeUndefined()
    const next = await store.increment('a')
    expect(next.totalHits).toBe(1)
    expect(next.resetTime?.getTime()).toBe(Date.now() + WINDOW_MS)
  })

  it('when a key stays idle for two window ticks, then it is dropped; an active one is kept', async () => {
    await store.increment('idle')
    await store.increment('busy')
    vi.advanceTimersByTime(WINDOW_MS)
    await store.increment('busy')
    expect(store.size).toBe(2)
    vi.advanceTimersByTime(WINDOW_MS)
    expect(store.size).toBe(1)
    expect((await store.increment('busy')).totalHits).toBe(1)
  })

  it('when decremented or reset, then the count goes down or starts over', async () => {
    await store.increment('a')
    await store.increment('a')
    await store.decrement('a')
    expect((await store.get('a'))?.totalHits).toBe(1)
    await store.resetKey('a')
    expect(await store.get('a')).toBeUndefined()
    expect((await store.increment('a')).totalHits).toBe(1)
  })
})
