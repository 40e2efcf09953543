// Issue 16, items 6-9 and 11, and issue 23 item 5: the HTTP findings of the outside review, each pinned.
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { crashHandler, type RunningServer, startServer } from '../../src/server.ts'
import { createRecordingSts } from '../fixtures/fake-sts.ts'
import { type JwksStub, startJwksStub } from '../fixtures/jwks-server.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'
import { baselineConfig, createHarness, type Harness } from '../integration/http/harness.ts'

let h: Harness | undefined
let server: Server | undefined
let running: RunningServer | undefined
let issuer: TestIssuer | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
  if (server) await new Promise((resolve) => server?.close(resolve))
  server = undefined
  await h?.close()
  h = undefined
  await issuer?.close()
  issuer = undefined
})

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-hardening-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Listens on 127.0.0.1:0 with the harness app; resolves with the port and the per-request hook. */
async function listenOn(app: Harness['app']) {
  const answered: Promise<void>[] = []
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    answered.push(once(res, 'close').then(() => undefined))
    app(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as AddressInfo).port, answered }
}

/** Writes `text` on a fresh socket and reads what comes back until the server closes or `ms` pass. */
async function rawExchange(port: number, text: string, ms = 2000): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.write(text)
  await Promise.race([once(socket, 'end'), new Promise((r) => setTimeout(r, ms))])
  socket.destroy()
  return Buffer.concat(chunks).toString('utf8')
}

describe('issue 16 item 11: the per-IP limit comes before 404 and 405', () => {
  it('when an address has hit its per-IP limit, then /v1/nope and a wrong method answer 429, while /healthz and /readyz still answer', async () => {
    h = await createHarness((raw) => {
      raw['limits'] = { perIp: { limit: 2, windowSeconds: 60 } }
    })
    const agent = h.agent()
    expect((await agent.get('/v1/nope')).status).toBe(404)
    expect((await agent.get('/v1/nope')).status).toBe(404)
    const nope = await agent.get('/v1/nope')
    expect(nope.status).toBe(429)
    expect(nope.body.error).toBe('rate_limited')
    expect(nope.headers['retry-after']).toMatch(/^[1-9]\d*$/)
    expect((await agent.delete('/v1/credentials')).status).toBe(429)
    expect((await agent.get('/V1/CREDENTIALS')).status).toBe(429)
    expect((await agent.get('/healthz')).status).toBe(200)
    expect((await agent.get('/readyz')).status).toBe(200)
    expect((await agent.post('/healthz')).status).toBe(405)
  })
})

describe('issue 16 item 9: duplicate Content-Type', () => {
  /** A raw POST /v1/credentials with a valid token and one Content-Type line per entry of `types`. */
  async function postWithContentTypes(types: string[]): Promise<string> {
    h = await createHarness()
    const { port } = await listenOn(h.app)
    const token = await h.token()
    const body = '{"durationSeconds":900}'
    const contentTypes = types.map((t) => `Content-Type: ${t}\r\n`).join('')
    return rawExchange(
      port,
      'POST /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' +
        `Authorization: Bearer ${token}\r\n${contentTypes}` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    )
  }

  it('when a request carries two Content-Type headers, then 400 invalid_request and no credentials', async () => {
    const answer = await postWithContentTypes(['application/json', 'text/plain'])
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).toContain('"error":"invalid_request"')
    expect(h?.sts.calls).toHaveLength(0)
  })

  it('when Content-Type is given once, then the same request is issued (the twin)', async () => {
    const answer = await postWithContentTypes(['application/json'])
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
  })
})

describe('issue 16 item 6: a client that aborts mid-body', () => {
  it('when a client sends headers and half a body and hangs up, then a 400-class outcome: no error log, no server_error, no 500 counted', async () => {
    h = await createHarness()
    const { port, answered } = await listenOn(h.app)
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      'POST /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"durationSe',
    )
    for (let i = 0; i < 100 && answered.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 50))
    socket.destroy()
    await Promise.all(answered)
    await new Promise((r) => setTimeout(r, 50))
    expect(h.lines.filter((l) => l['level'] === 'error' || l['level'] === 'fatal')).toEqual([])
    const text = await h.metrics.registry.metrics()
    expect(text).not.toContain('code="server_error"')
    expect(text).not.toMatch(/status="5\d\d"/)
    expect(h.lines.filter((l) => l['event'] === 'credentials.denied')).toEqual([
      expect.objectContaining({ code: 'invalid_request', reason: 'client aborted the body' }),
    ])
  })
})

describe('issue 16 item 8: /readyz is cached', () => {
  it('when /readyz is called many times within a few seconds, then its checks run once, and again only after the cache expires', async () => {
    let clock = 1_000_000
    let runs = 0
    const counting = {
      name: 'counting',
      check: async () => {
        runs += 1
        return { ready: true }
      },
    }
    h = await createHarness(undefined, { now: () => clock, readiness: [counting] })
    const agent = h.agent()
    const answers = await Promise.all(Array.from({ length: 20 }, () => agent.get('/readyz')))
    for (const res of answers) expect(res.status).toBe(200)
    clock += 4999
    expect((await agent.get('/readyz')).status).toBe(200)
    expect(runs).toBe(1)
    clock += 1
    expect((await agent.get('/readyz')).status).toBe(200)
    expect(runs).toBe(2)
  })

  it('when the checks fail, then the failure is cached too: hammering a failing /readyz causes no more checks', async () => {
    let runs = 0
    const failing = {
      name: 'sts',
      check: async () => {
        runs += 1
        return { ready: false, detail: 'STS endpoint not resolvable' }
      },
    }
    h = await createHarness(undefined, { now: () => 5_000, readiness: [failing] })
    for (let i = 0; i < 10; i++) expect((await h.agent().get('/readyz')).status).toBe(503)
    expect(runs).toBe(1)
  })
})

describe('issue 16 item 7: /metrics is not open on the main port', () => {
  it('when server.metrics is not configured (production), then the main port has no /metrics', async () => {
    h = await createHarness()
    const res = await h.agent().get('/metrics')
    expect(res.status).toBe(404)
    expect(res.text).not.toContain('sts_vend_')
  })

  it('when server.metrics.unauthenticated is true (dev mode), then /metrics answers on the main port', async () => {
    h = await createHarness((raw) => {
      raw['server'].metrics = { unauthenticated: true }
    })
    const res = await h.agent().get('/metrics')
    expect(res.status).toBe(200)
    expect(res.text).toContain('sts_vend_http_requests_total')
  })

  it('when a bearer token is configured, then no token is 401, a wrong one 401, the right one 200', async () => {
    const token = 'metrics-token-0123456789abcdef'
    h = await createHarness((raw) => {
      raw['server'].metrics = { bearerToken: token }
    })
    const none = await h.agent().get('/metrics')
    expect(none.status).toBe(401)
    expect(none.body.error).toBe('invalid_token')
    expect(none.headers['www-authenticate']).toBe('Bearer realm="sts-vend"')
    expect(none.text).not.toContain('sts_vend_')
    const wrong = await h.agent().get('/metrics').set('Authorization', `Bearer ${token}x`)
    expect(wrong.status).toBe(401)
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"')
    const ok = await h.agent().get('/metrics').set('Authorization', `bearer ${token}`)
    expect(ok.status).toBe(200)
    expect(ok.text).toContain('sts_vend_http_requests_total')
  })

  it('when the token comes from bearerTokenFile, then its trimmed content is the token', async () => {
    const file = join(dir, 'metrics-token')
    writeFileSync(file, 'file-token-0123456789abcdef\n')
    h = await createHarness((raw) => {
      raw['server'].metrics = { bearerTokenFile: file }
    })
    expect((await h.agent().get('/metrics')).status).toBe(401)
    const ok = await h.agent().get('/metrics').set('Authorization', 'Bearer file-token-0123456789abcdef')
    expect(ok.status).toBe(200)
  })

  it('when bearerTokenFile is missing, then the server refuses to start with a config error naming the key', async () => {
    await expect(
      createHarness((raw) => {
        raw['server'].metrics = { bearerTokenFile: join(dir, 'absent') }
      }),
    ).rejects.toThrow(/server\.metrics\.bearerTokenFile: cannot read .*ENOENT/)
  })

  it('when a separate metrics listener is configured, then the main port /metrics is 404 and the metrics port serves it (with its token)', async () => {
    issuer = await startTestIssuer()
    const token = 'listener-token-0123456789abcdef'
    const config = baselineConfig(issuer, (raw) => {
      raw['server'] = { host: '127.0.0.1', port: 0, metrics: { listen: { port: 0 }, bearerToken: token } }
    })
    const { logger } = createCapturingLogger('info')
    running = await startServer({ config, logger, stsClient: createRecordingSts() })
    expect(running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${running.url}/metrics`)).status).toBe(404)
    expect(
      (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(404)
    expect((await fetch(`${running.metricsUrl}/metrics`)).status).toBe(401)
    const ok = await fetch(`${running.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('sts_vend_http_requests_total')
    expect((await fetch(`${running.metricsUrl}/v1/credentials`)).status).toBe(404)
    expect((await fetch(`${running.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405)
  })

  it('when server.metrics contradicts itself, then the config is refused', () => {
    const bad = [
      { bearerToken: 'a'.repeat(16), bearerTokenFile: '/x' },
      { unauthenticated: true, bearerToken: 'a'.repeat(16) },
      { unauthenticated: true, listen: { port: 9090 } },
      { bearerToken: 'short' },
    ]
    const stub = { issuer: 'http://127.0.0.1:1/', jwksUri: 'http://127.0.0.1:1/jwks' } as TestIssuer
    for (const metrics of bad)
      expect(() =>
        baselineConfig(stub, (raw) => {
          raw['server'].metrics = metrics
        }),
      ).toThrow(ConfigError)
  })
})

describe('issue 23 item 5: /metrics labels by the matched route', () => {
  it('when /v1/credentials and /v1/simulate are called, then their requests are counted under those routes, not "other"', async () => {
    h = await createHarness()
    const token = await h.token()
    await h.agent().post('/v1/credentials').set('Authorization', `Bearer ${token}`).expect(200)
    await h.agent().get('/v1/credentials').expect(401)
    await h.agent().post('/v1/simulate').set('Authorization', `Bearer ${token}`).send({}).expect(200)
    await h.agent().get('/nowhere').expect(404)
    const text = await h.metrics.registry.metrics()
    expect(text).toContain(
      'sts_vend_http_requests_total{route="/v1/credentials",method="POST",status="200"} 1',
    )
    expect(text).toContain(
      'sts_vend_http_requests_total{route="/v1/credentials",method="GET",status="401"} 1',
    )
    expect(text).toContain('sts_vend_http_requests_total{route="/v1/simulate",method="POST",status="200"} 1')
    expect(text).toContain('sts_vend_http_requests_total{route="other",method="GET",status="404"} 1')
  })
})

describe('issue 16 decision: a weak JWKS key', () => {
  let stub: JwksStub | undefined
  afterEach(async () => {
    await stub?.close()
    stub = undefined
  })

  const rsaJwk = (modulusLength: number, kid: string) => ({
    ...generateKeyPairSync('rsa', { modulusLength }).publicKey.export({ format: 'jwk' }),
    kid,
    alg: 'RS256',
    use: 'sig',
  })

  it('when an issuer publishes an RSA key under 2048 bits, then /readyz fails for that issuer with one clear warning, and its tokens are not verified', async () => {
    stub = await startJwksStub({ keys: [rsaJwk(2048, 'strong'), rsaJwk(1024, 'weak-1024')] })
    const jwksUri = stub.jwksUri
    h = await createHarness((raw) => {
      raw['issuers'][0].jwksUri = jwksUri
    })
    const ready = await h.agent().get('/readyz')
    expect(ready.status).toBe(503)
    expect(ready.body.error_description).toBe('not ready: issuers (keys not fetched: corp: jwks_weak_key)')
    expect(h.lines.filter((l) => l['event'] === 'auth.jwks_weak_key')).toEqual([
      expect.objectContaining({
        level: 'warn',
        issuer_id: 'corp',
        kid: 'weak-1024',
        bits: 1024,
        min_bits: 2048,
      }),
    ])
    const res = await h
      .agent()
      .post('/v1/credentials')
      .set('Authorization', `Bearer ${await h.token()}`)
    expect(res.status).toBe(503)
    expect(h.sts.calls).toHaveLength(0)
  })

  it('when every RSA key has 2048 bits or more, then the same issuer is ready (the twin)', async () => {
    stub = await startJwksStub({ keys: [rsaJwk(2048, 'strong'), rsaJwk(3072, 'stronger')] })
    const jwksUri = stub.jwksUri
    h = await createHarness((raw) => {
      raw['issuers'][0].jwksUri = jwksUri
    })
    expect((await h.agent().get('/readyz')).status).toBe(200)
    expect(h.lines.filter((l) => l['event'] === 'auth.jwks_weak_key')).toEqual([])
  })
})

describe('issue 16 decision: crash logs are redacted like every other log', () => {
  const SECRETS = ['crash-secret-1', 'crash-secret-2', 'crash-secret-3', 'Policy=%7B', 'eyJhbGciOiJSUzI1NiJ9']

  it('when the crash handler gets a secret-bearing error, then its one fatal line has only the safe fields', () => {
    const { logger, lines, raw } = createCapturingLogger('info')
    const codes: number[] = []
    const err = Object.assign(
      new Error('AccessKeySecret=crash-secret-1 https://sts.aliyuncs.com/?Policy=%7B'),
      {
        accessKeySecret: 'crash-secret-2',
        code: 'CrashTest',
      },
    )
    crashHandler(logger, (code) => codes.push(code))('unhandledRejection', err)
    expect(codes).toEqual([70])
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        event: 'process.crashed',
        kind: 'unhandledRejection',
        cause: expect.objectContaining({ name: 'Error', code: 'CrashTest', stack: expect.any(String) }),
      }),
    ])
    for (const secret of SECRETS) expect(raw.join('\n')).not.toContain(secret)
  })
})
