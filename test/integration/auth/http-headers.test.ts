// The verifier behind a real Node HTTP server: duplicate Authorization headers and tokens in the query string.
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenVerifier } from '../../../src/auth/index.ts'
import { toErrorResponse } from '../../../src/errors.ts'
import { generateTestKey, goodClaims, issuerConfig, jwksOf, mintToken } from '../../fixtures/issuer.ts'
import { type JwksStub, startJwksStub } from '../../fixtures/jwks-server.ts'

const NOW = new Date('2031-03-01T12:00:00Z')
const CORP = 'https://id.example.test/'

let stub: JwksStub
let server: Server
let base: string
let token: string
/** What Node handed the handler for the last request. */
let seen: { headers: unknown; distinct: unknown } | undefined

beforeAll(async () => {
  const rs1 = await generateTestKey('RS256', 'rs1')
  stub = await startJwksStub({ keys: jwksOf(rs1).keys })
  token = await mintToken(rs1, goodClaims(CORP, NOW))
  const verifier = createTokenVerifier([issuerConfig({ id: 'corp', issuer: CORP, jwksUri: stub.jwksUri })], {
    now: () => NOW,
  })
  server = createServer((req, res) => {
    seen = { headers: req.headers.authorization, distinct: req.headersDistinct['authorization'] }
    verifier.verify(req.headersDistinct['authorization']).then(
      (caller) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ sub: caller.subject })),
      (err: unknown) => {
        const out = toErrorResponse(err, 'req-1')
        res
          .writeHead(out.status, { ...out.headers, 'content-type': 'application/json' })
          .end(JSON.stringify(out.body))
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await stub.close()
})

/** Sends GET `path` with `authorization` as one header per value. */
function get(path: string, authorization: string[] = []) {
  return new Promise<{ status: number; wwwAuthenticate: string | undefined; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const headers: Record<string, string[]> = authorization.length > 0 ? { authorization } : {}
      const req = request(`${base}${path}`, { headers, agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            wwwAuthenticate: res.headers['www-authenticate'],
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        )
      })
      req.on('error', reject)
      req.end()
    },
  )
}

describe('Authorization over real HTTP', () => {
  it('when one Bearer header is sent, then 200 with the subject', async () => {
    expect(await get('/', [`Bearer ${token}`])).toMatchObject({ status: 200, body: { sub: 'alice' } })
  })

  it('when two Authorization headers are sent, then 401 although Node keeps only the first in req.headers', async () => {
    const res = await get('/', [`Bearer ${token}`, 'Basic YWxpY2U6cHc='])
    expect(res.status).toBe(401)
    expect(res.wwwAuthenticate).toBe('Bearer realm="sts-vend", error="invalid_token"')
    expect(seen?.headers).toBe(`Bearer ${token}`)
    expect(seen?.distinct).toEqual([`Bearer ${token}`, 'Basic YWxpY2U6cHc='])
  })

  it.each(['access_token', 'token', 'jwt'])(
    'when a valid token is only in the query string (?%s=), then 401 as if absent: it is never read',
    async (name) => {
      const res = await get(`/?${name}=${token}`)
      expect(res.status).toBe(401)
      expect(res.wwwAuthenticate).toBe('Bearer realm="sts-vend"')
      expect(res.body['error']).toBe('invalid_token')
    },
  )

  it('when the query carries a valid token and the header a bad one, then 401: the query is not a fallback', async () => {
    const res = await get(`/?access_token=${token}`, ['Bearer not.a.token'])
    expect(res.status).toBe(401)
    expect(res.wwwAuthenticate).toBe('Bearer realm="sts-vend", error="invalid_token"')
  })

  it('when the body of a 401 is read, then it echoes nothing of the token', async () => {
    const res = await get('/', [`Bearer ${token}x`])
    expect(res.status).toBe(401)
    const text = JSON.stringify(res.body)
    for (const segment of token.split('.')) expect(text).not.toContain(segment)
  })
})
