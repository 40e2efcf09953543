// The curve's warm-up: every caller answered 200 once, 503s asked again after Retry-After, anything else stops it.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { warmCallers } from '../../../bench/lib/curve.ts'

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve))
  server = undefined
})

/** A stand-in service: answers each Authorization with `answer(token, times seen)`. */
async function serve(
  answer: (token: string, seen: number) => number,
): Promise<{ url: string; seen: Map<string, number> }> {
  const seen = new Map<string, number>()
  server = createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    const count = (seen.get(token) ?? 0) + 1
    seen.set(token, count)
    res.statusCode = answer(token, count)
    if (res.statusCode === 503) res.setHeader('Retry-After', '0')
    res.end('{}')
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const tokens = Array.from({ length: 40 }, (_, i) => `token-${i}`)

describe('warmCallers', () => {
  it('when every answer is 200, then each caller is asked exactly once and nothing is retried', async () => {
    const { url, seen } = await serve(() => 200)
    const result = await warmCallers(url, tokens, 5)
    expect(result.retries).toBe(0)
    expect([...seen.keys()].sort()).toEqual([...tokens].sort())
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
  })

  it('when some callers first get a 503, then they are asked again until 200 and counted as retries', async () => {
    const { url, seen } = await serve((token, count) => (token.endsWith('7') && count === 1 ? 503 : 200))
    const result = await warmCallers(url, tokens, 5)
    expect(result.retries).toBe(4)
    expect(seen.get('token-7')).toBe(2)
    expect(seen.get('token-37')).toBe(2)
    expect(seen.get('token-8')).toBe(1)
  })

  it('when an answer is neither 200 nor 503, then the warm-up fails', async () => {
    const { url } = await serve((token) => (token === 'token-3' ? 401 : 200))
    await expect(warmCallers(url, tokens, 5)).rejects.toThrow(/warming: 401/)
  })

  it('when the service keeps answering 503, then the warm-up fails once the retry budget is spent', async () => {
    const { url, seen } = await serve(() => 503)
    await expect(warmCallers(url, tokens.slice(0, 2), 2)).rejects.toThrow(
      /warming: 503 after 0 callers and 1000 retries/,
    )
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(1000)
  })
})
