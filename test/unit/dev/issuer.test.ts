// The dev issuer: discovery + JWKS that verify its tokens, POST /dev/token validation, loopback-only in every way.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevIssuer, DevIssuerError, startDevIssuer } from '../../../src/dev/issuer.ts'
import { poseAsPeer, rawRequest } from '../agent/raw-request.ts'

const NOW = new Date('2026-03-01T10:00:00Z')
const NOW_S = NOW.getTime() / 1000

let dev: DevIssuer
beforeAll(async () => {
  dev = await startDevIssuer({ now: () => NOW })
})
afterAll(() => dev.close())

function postToken(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return fetch(`${dev.issuer}/dev/token`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

describe('discovery and keys', () => {
  it('when discovery is read, then it names the issuer URL and its JWKS, and advertises ES256', async () => {
    const res = await fetch(`${dev.issuer}/.well-known/openid-configuration`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const doc = (await res.json()) as Record<string, unknown>
    expect(dev.issuer).toBe(`http://127.0.0.1:${dev.port}`)
    expect(doc['issuer']).toBe(dev.issuer)
    expect(doc['jwks_uri']).toBe(`${dev.issuer}/jwks.json`)
    expect(doc['jwks_uri']).toBe(dev.jwksUri)
    expect(doc['id_token_signing_alg_values_supported']).toEqual(['ES256'])
  })

  it('when a token is minted over HTTP, then it verifies against the JWKS with iss, aud, sub, iat, exp (1 h) and typ JWT', async () => {
    const res = await postToken({ sub: 'alice', claims: { groups: ['photo-app'], email_verified: true } })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const { token } = (await res.json()) as { token: string }
    const jwks = createRemoteJWKSet(new URL(dev.jwksUri))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: dev.issuer,
      audience: 'sts-vend',
      currentDate: NOW,
      typ: 'JWT',
    })
    expect(protectedHeader.alg).toBe('ES256')
    const keys = (await (await fetch(dev.jwksUri)).json()) as { keys: { kid: string }[] }
    expect(keys.keys.map((k) => k.kid)).toEqual([protectedHeader.kid])
    expect(payload).toMatchObject({ sub: 'alice', groups: ['photo-app'], email_verified: true, iat: NOW_S })
    expect(payload.exp).toBe(NOW_S + 3600)
  })

  it('when ttlSeconds is given, then exp is iat + ttlSeconds', async () => {
    const res = await postToken({ sub: 'bob', ttlSeconds: 120 })
    const { token } = (await res.json()) as { token: string }
    expect(decodeJwt(token).exp).toBe(NOW_S + 120)
  })

  it('when two issuers start, then their signing keys differ (fresh keys each start)', async () => {
    const other = await startDevIssuer()
    try {
      const token = await other.mint('alice')
      expect(decodeProtectedHeader(token).kid).not.toBe(decodeProtectedHeader(await dev.mint('alice')).kid)
      const jwks = createRemoteJWKSet(new URL(dev.jwksUri))
      await expect(jwtVerify(token, jwks)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' })
    } finally {
      await other.close()
    }
  })

  it('when the audience option is given, then tokens carry it', async () => {
    const other = await startDevIssuer({ audience: 'other-aud' })
    try {
      expect(decodeJwt(await other.mint('alice')).aud).toBe('other-aud')
    } finally {
      await other.close()
    }
  })

  it('when a claim is named "__proto__", then it stays an ordinary claim', async () => {
    const res = await postToken('{"sub":"alice","claims":{"__proto__":{"admin":true}}}')
    expect(res.status).toBe(200)
    const { token } = (await res.json()) as { token: string }
    const payload = decodeJwt(token) as Record<string, unknown>
    expect(Object.hasOwn(payload, '__proto__')).toBe(true)
    expect(payload['admin']).toBeUndefined()
  })
})

describe('POST /dev/token refusals', () => {
  it.each([
    ['no sub', 'ERR_DEV_TOKEN_SUB', { claims: {} }],
    ['an empty sub', 'ERR_DEV_TOKEN_SUB', { sub: '' }],
    ['a numeric sub', 'ERR_DEV_TOKEN_SUB', { sub: 42 }],
    ['a 257-character sub', 'ERR_DEV_TOKEN_SUB', { sub: 'a'.repeat(257) }],
    ['claims as an array', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: ['x'] }],
    ['claims null', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: null }],
    ['claims as a string', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: 'groups=x' }],
    ['an iss claim', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { iss: 'https://evil' } }],
    ['an aud claim', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { aud: 'x' } }],
    ['an exp claim', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { exp: 9999999999 } }],
    ['an iat claim', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { iat: 1 } }],
    ['a sub claim', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { sub: 'root' } }],
    ['claims over 6 KiB', 'ERR_DEV_TOKEN_CLAIMS', { sub: 'a', claims: { big: 'x'.repeat(7000) } }],
    ['ttlSeconds 0', 'ERR_DEV_TOKEN_TTL', { sub: 'a', ttlSeconds: 0 }],
    ['ttlSeconds 1.5', 'ERR_DEV_TOKEN_TTL', { sub: 'a', ttlSeconds: 1.5 }],
    ['ttlSeconds as a string', 'ERR_DEV_TOKEN_TTL', { sub: 'a', ttlSeconds: '60' }],
    ['ttlSeconds over a day', 'ERR_DEV_TOKEN_TTL', { sub: 'a', ttlSeconds: 86_401 }],
  ])('when the body has %s, then 400 invalid_request with code %s', async (_name, code, body) => {
    const res = await postToken(body)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', code })
  })

  it.each([
    ['not JSON', 400, '{"sub":'],
    ['a JSON array', 400, '["alice"]'],
    ['an unknown field', 400, '{"sub":"a","admin":true}'],
    ['over 16 KiB', 413, JSON.stringify({ sub: 'a', claims: { x: 'y'.repeat(17_000) } })],
  ])('when the body is %s, then %i', async (_name, status, body) => {
    const res = await postToken(body)
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('when the content type is not application/json, then 415', async () => {
    const res = await postToken({ sub: 'a' }, { 'content-type': 'text/plain' })
    expect(res.status).toBe(415)
  })

  it.each([
    ['GET', '/dev/token', 405, 'POST'],
    ['POST', '/jwks.json', 405, 'GET'],
    ['DELETE', '/.well-known/openid-configuration', 405, 'GET'],
    ['GET', '/dev/tokens', 404, undefined],
    ['GET', '/', 404, undefined],
  ])('when %s %s, then %i', async (method, path, status, allow) => {
    const res = await fetch(`${dev.issuer}${path}`, { method })
    expect(res.status).toBe(status)
    expect(res.headers.get('allow') ?? undefined).toBe(allow)
  })
})

describe('loopback only', () => {
  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com'])(
    'when asked to listen on %s, then it refuses with ERR_DEV_ISSUER_NOT_LOOPBACK',
    async (host) => {
      await expect(startDevIssuer({ host })).rejects.toMatchObject({ code: 'ERR_DEV_ISSUER_NOT_LOOPBACK' })
    },
  )

  it.each(['10.0.0.5', '203.0.113.7', '::ffff:10.0.0.5', '2001:db8::1'])(
    'when the peer is %s, then every path answers 403',
    async (address) => {
      const undo = poseAsPeer(dev.server, address)
      try {
        for (const path of ['/dev/token', '/jwks.json', '/.well-known/openid-configuration']) {
          const res = await rawRequest(`${dev.issuer}${path}`, {
            method: path === '/dev/token' ? 'POST' : 'GET',
            headers: { 'content-type': 'application/json', connection: 'close' },
            body: path === '/dev/token' ? '{"sub":"alice"}' : undefined,
          })
          expect(res.status).toBe(403)
          expect(res.text).not.toMatch(/eyJ/)
        }
      } finally {
        undo()
      }
    },
  )

  it.each([
    ['a DNS name (rebinding)', 403, 'attacker.example'],
    ['a DNS name with the port', 403, 'attacker.example:8788'],
    ['localhost', 200, 'localhost'],
    ['the IP and port', 200, '127.0.0.1:8788'],
    ['[::1]', 200, '[::1]:8788'],
  ])('when the Host header is %s, then %i', async (_name, status, host) => {
    const res = await rawRequest(`${dev.issuer}/dev/token`, {
      method: 'POST',
      headers: { host, 'content-type': 'application/json' },
      body: '{"sub":"alice"}',
    })
    expect(res.status).toBe(status)
  })

  it('when the loopback host is localhost, then it listens and the issuer URL names localhost', async () => {
    const local = await startDevIssuer({ host: 'localhost' })
    try {
      expect(local.issuer).toBe(`http://localhost:${local.port}`)
    } finally {
      await local.close()
    }
  })
})

describe('mint()', () => {
  it.each([
    ['an empty sub', '', {}, 60, 'ERR_DEV_TOKEN_SUB'],
    ['an aud claim', 'a', { aud: 'x' }, 60, 'ERR_DEV_TOKEN_CLAIMS'],
    ['claims with a BigInt', 'a', { n: 1n }, 60, 'ERR_DEV_TOKEN_CLAIMS'],
    ['claims as a Date', 'a', new Date() as unknown as Record<string, unknown>, 60, 'ERR_DEV_TOKEN_CLAIMS'],
    ['a negative ttl', 'a', {}, -1, 'ERR_DEV_TOKEN_TTL'],
  ])('when called with %s, then it throws DevIssuerError %s', async (_name, sub, claims, ttl, code) => {
    const err = await dev.mint(sub, claims, ttl).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DevIssuerError)
    expect(err).toMatchObject({ code })
  })

  it('when closed, then its port is free again', async () => {
    const temp = await startDevIssuer()
    const port = temp.port
    await temp.close()
    const again = await startDevIssuer({ port })
    expect(again.port).toBe(port)
    await again.close()
  })
})
