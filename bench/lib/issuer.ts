// A loopback RS256 issuer for the bench and the soak: one key, a JWKS endpoint, tokens minted up front.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'

export const BENCH_AUDIENCE = 'sts-vend'

export interface BenchIssuer {
  /** The `iss` of every token (trailing slash). */
  issuer: string
  jwksUri: string
  /** Signs one token for `sub`, valid for `ttlSeconds` (default 2 h: longer than any run). */
  mint(sub: string, ttlSeconds?: number): Promise<string>
  /** Signs tokens for `prefix0` … `prefix<n-1>`. */
  mintMany(prefix: string, n: number): Promise<string[]>
  close(): Promise<void>
}

/** Starts the issuer on 127.0.0.1 (a free port). RS256, as most IdPs sign, with a 2048-bit key. */
export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }],
  })
  const server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      res.setHeader('Content-Type', 'application/json')
      res.end(jwks)
      return
    }
    res.statusCode = 404
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}/`
  const mint = (sub: string, ttlSeconds = 7200) => {
    const iat = Math.floor(Date.now() / 1000)
    return new SignJWT({ aud: BENCH_AUDIENCE, groups: ['photo-app'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(privateKey)
  }
  return {
    issuer,
    jwksUri: `${issuer}jwks.json`,
    mint,
    async mintMany(prefix, n) {
      const out: string[] = []
      for (let i = 0; i < n; i++) out.push(await mint(`${prefix}${i}`))
      return out
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
