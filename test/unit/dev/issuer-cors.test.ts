// The dev issuer's CORS for the web console: only the allowed loopback origin, only POST /dev/token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, startDevIssuer } from '../../../src/dev/issuer.ts'

const CONSOLE = 'http://127.0.0.1:8787'
let issuer: DevIssuer

beforeAll(async () => {
  issuer = await startDevIssuer({ port: 0 })
  issuer.allowOrigin(CONSOLE)
})

afterAll(() => issuer.close())

function preflight(origin: string, path = '/dev/token') {
  return fetch(`${issuer.issuer}${path}`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    },
  })
}

function mint(origin: string) {
  return fetch(`${issuer.issuer}/dev/token`, {
    method: 'POST',
    headers: { Origin: origin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub: 'alice', claims: {} }),
  })
}

describe('dev issuer CORS', () => {
  it('when the console origin preflights POST /dev/token, then it is allowed with Content-Type, for that origin only', async () => {
    const res = await preflight(CONSOLE)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(CONSOLE)
    expect(res.headers.get('access-control-allow-methods')).toBe('POST')
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type')
    expect(res.headers.get('vary')).toBe('Origin')
  })

  it('when the console origin posts, then the answer carries its origin so the page can read the token', async () => {
    const res = await mint(CONSOLE)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(CONSOLE)
  })

  it.each(['http://127.0.0.1:9999', 'https://evil.example', 'null'])(
    'when %s preflights or posts, then no CORS header lets a browser read the answer',
    async (origin) => {
      const pre = await preflight(origin)
      expect(pre.status).toBe(405)
      expect(pre.headers.get('access-control-allow-origin')).toBeNull()
      const post = await mint(origin)
      expect(post.headers.get('access-control-allow-origin')).toBeNull()
    },
  )

  it.each(['/jwks.json', '/.well-known/openid-configuration'])(
    'when the console origin asks %s, then no CORS header is added (only /dev/token is shared)',
    async (path) => {
      const res = await fetch(`${issuer.issuer}${path}`, { headers: { Origin: CONSOLE } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      expect((await preflight(CONSOLE, path)).headers.get('access-control-allow-origin')).toBeNull()
    },
  )

  it.each([
    'https://evil.example',
    'http://10.0.0.1:8787',
    'http://127.0.0.1:8787/',
    'null',
    'file://',
    'ftp://127.0.0.1',
  ])('when allowOrigin(%s) is called, then it is refused with ERR_DEV_ISSUER_NOT_LOOPBACK', (origin) => {
    expect(() => issuer.allowOrigin(origin)).toThrow(
      expect.objectContaining({ code: 'ERR_DEV_ISSUER_NOT_LOOPBACK' }),
    )
  })
})
