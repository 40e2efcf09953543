import { describe, expect, it } from 'vitest'
import { formatExpiration } from '../../../src/formats/time.ts'

describe('formatExpiration', () => {
  it('when times alternate and repeat, then each is formatted as its own second, without milliseconds', () => {
    const a = new Date(Date.UTC(2026, 11, 5, 0, 18, 6, 999))
    const b = new Date(Date.UTC(2027, 0, 1, 23, 59, 59, 1))
    const seen = [a, a, b, new Date(a.getTime()), b, b, a].map(formatExpiration)
    expect(seen).toEqual([
      '2026-12-05T00:18:06Z',
      '2026-12-05T00:18:06Z',
      '2027-01-01T23:59:59Z',
      '2026-12-05T00:18:06Z',
      '2027-01-01T23:59:59Z',
      '2027-01-01T23:59:59Z',
      '2026-12-05T00:18:06Z',
    ])
  })

  it('when the date is invalid, then it throws as toISOString does, whatever came before', () => {
    formatExpiration(new Date(0))
    expect(() => formatExpiration(new Date(Number.NaN))).toThrow(RangeError)
    expect(() => formatExpiration(new Date(Number.NaN))).toThrow(RangeError)
  })
})
