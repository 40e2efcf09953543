// FetchGuard: what an issuer's discovery/JWKS response must be, and the backoff after failures, with an injected fetch.
import { describe, expect, it, vi } from 'vitest'
import { FetchGuard, IssuerFetchError, MAX_METADATA_BYTES } from '../../../src/auth/guarded-fetch.ts'

const URL_ = 'https://id.example.test/jwks.json'
const ok = () => undefined

function guardWith(respond: () => Response | Promise<Response>, maxBackoffMs = 30_000) {
  const clock = { ms: 5_000_000 }
  const fetchMock = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => respond())
  const failures: string[] = []
  const guard = new FetchGuard({
    fetch: fetchMock as unknown as typeof fetch,
    now: () => new Date(clock.ms),
    maxBackoffMs,
    onFailure: (reason) => failures.push(reason),
  })
  const get = () => guard.getJson(URL_, AbortSignal.timeout(1_000), ok)
  return { guard, clock, fetchMock, failures, get }
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(IssuerFetchError)
    return (err as IssuerFetchError).reason
  }
  throw new Error('expected a rejection')
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('FetchGuard.getJson', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/jwk-set+json',
    'Application/JSON',
  ])('when the answer is 200 %s, then its JSON is returned', async (contentType) => {
    const { get, fetchMock } = guardWith(() => json({ keys: [] }, { 'content-type': contentType }))
    expect(await get()).toEqual({ keys: [] })
    expect(fetchMock).toHaveBeenCalledWith(
      URL_,
      expect.objectContaining({ method: 'GET', redirect: 'manual' }),
    )
  })

  it.each([
    [
      'a 301',
      () => new Response(null, { status: 301, headers: { location: 'https://evil.example/' } }),
      'redirect_refused',
    ],
    ['a 500', () => new Response('oops', { status: 500 }), 'http_500'],
    [
      'text/plain',
      () => new Response('{"keys":[]}', { status: 200, headers: { 'content-type': 'text/plain' } }),
      'not_json_media_type',
    ],
    [
      'no content type',
      () => new Response(new Uint8Array(Buffer.from('{"keys":[]}')), { status: 200 }),
      'not_json_media_type',
    ],
    [
      'invalid JSON',
      () => new Response('{"keys":', { status: 200, headers: { 'content-type': 'application/json' } }),
      'invalid_json',
    ],
    [
      'invalid UTF-8',
      () =>
        new Response(new Uint8Array([0x22, 0xc3, 0x28, 0x22]), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
      'invalid_utf8',
    ],
    [
      'a declared length over the cap',
      () => json({}, { 'content-length': String(MAX_METADATA_BYTES + 1) }),
      'too_large',
    ],
    [
      'a network error',
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
      'network_ECONNREFUSED',
    ],
    ['a timeout', () => Promise.reject(new DOMException('timed out', 'TimeoutError')), 'timeout'],
  ])('when the answer is %s, then IssuerFetchError %s', async (_n, respond, reason) => {
    const { get, failures } = guardWith(respond)
    expect(await reasonOf(get())).toBe(reason)
    expect(failures).toEqual([reason])
  })

  it('when a streamed body without a length passes the cap, then too_large and the stream is cancelled', async () => {
    let pulled = 0
    let cancelled = false
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1
        controller.enqueue(chunk)
      },
      cancel() {
        cancelled = true
      },
    })
    const { get } = guardWith(
      () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
    )
    expect(await reasonOf(get())).toBe('too_large')
    expect(cancelled).toBe(true)
    expect(pulled * chunk.byteLength).toBeLessThan(MAX_METADATA_BYTES + 3 * chunk.byteLength)
  })

  it('when the check rejects the JSON, then its reason is the failure and the backoff starts', async () => {
    const { guard, fetchMock, clock } = guardWith(() => json({ issuer: 'x' }))
    expect(
      await reasonOf(guard.getJson(URL_, AbortSignal.timeout(1_000), () => 'discovery_issuer_mismatch')),
    ).toBe('discovery_issuer_mismatch')
    expect(guard.lastFailure).toBe('discovery_issuer_mismatch')
    expect(await reasonOf(guard.getJson(URL_, AbortSignal.timeout(1_000), ok))).toBe('backoff')
    expect(fetchMock).toHaveBeenCalledTimes(1)
    clock.ms += 1_000
    expect(await guard.getJson(URL_, AbortSignal.timeout(1_000), ok)).toEqual({ issuer: 'x' })
    expect(guard.lastFailure).toBeUndefined()
  })

  it('when backing off, then callers are answered without calling fetch and told how long to wait', async () => {
    const { get, fetchMock, clock } = guardWith(() => new Response('', { status: 503 }))
    await reasonOf(get())
    clock.ms += 400
    const err = await get().catch((e: unknown) => e as IssuerFetchError)
    expect(err).toMatchObject({ reason: 'backoff', retryAfterMs: 600 })
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('when a fetch succeeds after failures, then the backoff resets to its first step', async () => {
    let status = 503
    const { get, clock } = guardWith(() =>
      status === 200 ? json({ keys: [] }) : new Response('', { status }),
    )
    for (const wait of [1_000, 2_000, 4_000]) {
      const err = (await get().catch((e: unknown) => e)) as IssuerFetchError
      expect(err.retryAfterMs).toBe(wait)
      clock.ms += wait
    }
    status = 200
    await get()
    status = 503
    expect(((await get().catch((e: unknown) => e)) as IssuerFetchError).retryAfterMs).toBe(1_000)
  })

  it('when maxBackoffMs is 0, then every call fetches', async () => {
    const { get, fetchMock } = guardWith(() => new Response('', { status: 500 }), 0)
    for (let i = 0; i < 3; i++) await reasonOf(get())
    expect(fetchMock).toHaveBeenCalledTimes(3)
  })
})
