// Group 2c of security-cases.md: HTTP-level tricks against the real app (bodies, query, CORS, proxies, timeouts, errors, metrics).
import { createServer } from 'node:http'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ConfigError, loadConfig } from '../../src/config/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { startServer } from '../../src/server.ts'
import { mintToken } from '../fixtures/issuer.ts'
import {
  expectHealthy,
  expectIssued,
  expectNoSentinel,
  expectRefused,
  lastAssumeRole,
  send,
} from '../fixtures/refusals.ts'
import { goodSpec } from './catalogue.ts'
import { expectedDenial } from './denial.ts'
import { chunkedPost, closedWithin, listenLocal, openSocket, timedGet } from './net.ts'
import { runCatalogued, sharedWorld } from './run-catalogue.ts'
import { buildSecApp, emulatorClient, freshSub, securityConfigDoc } from './world.ts'

const shared = sharedWorld()
const ALLOWED = 'https://app.example.test'

describe('2c HTTP level', () => {
  runCatalogued('http', shared)

  it('SEC-081 bodies over 16 KiB (declared or chunked) are 413 before auth', async () => {
    const { world, sec } = shared()
    const big = JSON.stringify({ rule: 'x'.repeat(17_000) })
    await expectRefused(await send(world, sec, { method: 'POST', body: big, authorization: null }), {
      status: 413,
      code: 'payload_too_large',
    })
    const server = createServer(sec.app)
    const local = await listenLocal(server)
    try {
      const calls = world.emulator.counters.snapshot().assumeRoleCalls
      const answer = await chunkedPost(local.port, '/v1/credentials', 1024 * 1024)
      expect(answer.status).toBe(413)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' })
      expect(world.emulator.counters.snapshot().assumeRoleCalls).toBe(calls)
    } finally {
      await local.close()
    }
    await expectHealthy(sec)
    await expectIssued(await send(world, sec, await goodSpec(world, { rule: 'app-users' })))
  })

  it('SEC-089 CORS answers only the exact configured origin, never *, never credentials', async () => {
    const { world, sec } = shared()
    const token = await world.sign()
    for (const origin of [
      'https://evil.example',
      'null',
      'https://app.example.test.evil.example',
      'https://evilapp.example.test',
    ]) {
      const actual = await request(sec.app)
        .post('/v1/credentials')
        .set('Authorization', `Bearer ${token}`)
        .set('Origin', origin)
      expect(actual.headers['access-control-allow-origin']).toBeUndefined()
      const preflight = await request(sec.app)
        .options('/v1/credentials')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type')
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
    }
    const preflight = await request(sec.app)
      .options('/v1/credentials')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST')
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED)
    expect(preflight.headers['vary']).toMatch(/Origin/)
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
    const twin = await send(world, sec, { ...(await goodSpec(world)), headers: { Origin: ALLOWED } })
    await expectIssued(twin)
    expect(twin.res.headers['access-control-allow-origin']).toBe(ALLOWED)
    const doc = securityConfigDoc(world)
    doc['server'].cors.origins = ['*']
    expect(() => loadConfig(doc)).toThrow(ConfigError)
  })

  it('SEC-090 Host and X-Forwarded-Host change no endpoint, redirect or OpenAPI server', async () => {
    const { world, sec } = shared()
    const plain = await request(sec.app).get('/openapi.yaml')
    const spoofed = await request(sec.app)
      .get('/openapi.yaml')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
    expect(spoofed.text).toBe(plain.text)
    expect(spoofed.text).not.toContain('evil.example')
    const issued = await send(world, sec, {
      ...(await goodSpec(world)),
      headers: { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' },
    })
    const body = await expectIssued(issued)
    expect(body['endpoint']).toBe('oss-cn-hangzhou.aliyuncs.com')
    expect(issued.res.text).not.toContain('evil.example')
  })

  it('SEC-091 with trustProxyHops 0 a spoofed X-Forwarded-For neither escapes the limit nor reaches the audit', async () => {
    const { world } = shared()
    const app = await buildSecApp(world, { patch: (d) => Object.assign(d, { limits: {} }) })
    try {
      const twin = await send(world, app, {
        ...(await goodSpec(world)),
        headers: { 'X-Forwarded-For': '203.0.113.9' },
      })
      await expectIssued(twin)
      expect(app.lines.find((l) => l['event'] === 'credentials.issued')?.['client_ip']).toBe('127.0.0.1')
      for (let i = 2; i <= 300; i++) {
        const res = await request(app.app)
          .post('/v1/credentials')
          .set('X-Forwarded-For', `198.51.100.${i % 250}`)
        expect(res.status).toBe(401)
      }
      const probe = await send(world, app, {
        method: 'POST',
        body: {},
        authorization: null,
        headers: { 'X-Forwarded-For': '192.0.2.77' },
      })
      await expectRefused(probe, { status: 429, code: 'rate_limited' })
      const denied = app.lines.filter((l) => l['event'] === 'credentials.denied')
      expect(new Set(denied.map((l) => l['client_ip']))).toEqual(new Set(['127.0.0.1']))
    } finally {
      await app.close()
    }
  })

  it('SEC-093 behind a proxy, one IPv6 /56 shares a bucket and IPv4-mapped clients do not', async () => {
    const { world } = shared()
    const app = await buildSecApp(world, {
      patch: (d) => {
        d['server'].trustProxyHops = 1
        d['limits'] = { perIp: { limit: 5, windowSeconds: 60 } }
      },
    })
    try {
      const from = (ip: string) => request(app.app).post('/v1/credentials').set('X-Forwarded-For', ip)
      for (let i = 1; i <= 5; i++) expect((await from(`2001:db8::${i.toString(16)}`)).status).toBe(401)
      const sameNet = await send(world, app, {
        method: 'POST',
        body: {},
        authorization: null,
        headers: { 'X-Forwarded-For': '2001:db8::ffff' },
      })
      await expectRefused(sameNet, { status: 429, code: 'rate_limited' })
      expect((await from('2001:db8:0:100::1')).status).toBe(401)
      for (let i = 0; i < 5; i++) expect((await from('::ffff:203.0.113.1')).status).toBe(401)
      expect((await from('::ffff:203.0.113.1')).status).toBe(429)
      const other = await send(world, app, {
        ...(await goodSpec(world)),
        headers: { 'X-Forwarded-For': '::ffff:203.0.113.2' },
      })
      await expectIssued(other)
    } finally {
      await app.close()
    }
  })

  it('SEC-094 sourceIp: request binds to the socket address, /32 or /128, and refuses without one', async () => {
    const { world, sec } = shared()
    const claims = { sub: freshSub(), groups: ['ip-app'] }
    await expectIssued(
      await send(world, sec, {
        ...(await goodSpec(world, {}, claims)),
        headers: { 'X-Forwarded-For': '203.0.113.5' },
      }),
    )
    const policy = JSON.parse(lastAssumeRole(world).Policy ?? '{}')
    expect(JSON.stringify(policy)).toContain('"IpAddress":{"acs:SourceIp":"127.0.0.1/32"}')
    expect(JSON.stringify(policy)).not.toContain('203.0.113.5')
    // An IPv6 client, on ::1.
    const server = createServer(sec.app)
    const local = await listenLocal(server, '::1').catch(() => null)
    if (local) {
      try {
        const res = await fetch(`http://[::1]:${local.port}/v1/credentials`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${await world.sign(world.good({ sub: freshSub(), groups: ['ip-app'] }))}`,
          },
        })
        expect(res.status).toBe(200)
        expect(lastAssumeRole(world).Policy).toContain('"acs:SourceIp":"::1/128"')
      } finally {
        await local.close()
      }
    }
    // No socket address: the service refuses rather than rendering a policy without the condition.
    const caller = {
      issuerId: 'corp',
      issuer: world.good()['iss'] as string,
      subject: 'alice',
      claims: { sub: 'alice', groups: ['ip-app'] },
    }
    expect(() =>
      sec.adapters.deps.issueCredentials.decide(caller, { format: 'json' }, { requestId: 'r', clientIp: '' }),
    ).toThrow(expect.objectContaining({ code: 'access_denied', reason: 'source_ip_unavailable' }))
  })

  it('SEC-095 slow headers and bodies are cut by headersTimeout/requestTimeout (bounded: 20 sockets, 2 s)', async () => {
    const { world } = shared()
    const doc = securityConfigDoc(world)
    doc['server'] = { ...doc['server'], port: 0, requestTimeoutMs: 2000 }
    const config = loadConfig(doc)
    const { logger } = createCapturingLogger('info')
    const running = await startServer({ config, logger, stsClient: emulatorClient(config, logger) })
    const port = Number(new URL(running.url).port)
    const timers: NodeJS.Timeout[] = []
    let sockets: import('node:net').Socket[] = []
    try {
      const started = performance.now()
      sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(port)))
      sockets.forEach((socket, i) => {
        if (i % 2 === 0) {
          socket.write('GET /healthz HTTP/1.1\r\nX-Slow: ')
          timers.push(setInterval(() => socket.writable && socket.write('a'), 500))
        } else {
          socket.write(
            'POST /v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
          )
          timers.push(setInterval(() => socket.writable && socket.write(' '), 500))
        }
      })
      const health = await timedGet(`${running.url}/healthz`)
      expect(health).toMatchObject({ status: 200 })
      // Well under the 10 s the slow sockets are held: the event loop is never blocked by them.
      expect(health.ms).toBeLessThan(2000)
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 8000, started)))
      for (const ms of closed) expect(ms).toBeLessThan(5000)
      expect((await timedGet(`${running.url}/healthz`)).status).toBe(200)
    } finally {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.destroy()
      await running.close()
    }
  })

  it('SEC-097 a thrown error is a JSON 500 with no stack, message or X-Powered-By', async () => {
    const { world, sec } = shared()
    const { deps } = sec.adapters
    const app = createApp({
      ...deps,
      verifier: {
        verify: async () => {
          throw new Error('secret-XYZ')
        },
        readiness: deps.verifier.readiness,
      },
    })
    const previous = process.env['NODE_ENV']
    delete process.env['NODE_ENV']
    try {
      const probe = await send(world, { ...sec, app }, await goodSpec(world))
      await expectRefused(probe, { status: 500, code: 'server_error' })
      expect(probe.res.text).not.toContain('secret-XYZ')
      expect(probe.res.text).not.toMatch(/at .*\.ts:\d+/)
      expect(probe.res.headers['x-powered-by']).toBeUndefined()
    } finally {
      if (previous !== undefined) process.env['NODE_ENV'] = previous
    }
    await expectIssued(await send(world, sec, await goodSpec(world)))
  })

  it('SEC-098 a hostile X-Request-Id is replaced and never logged raw', async () => {
    const { world, sec } = shared()
    for (const id of ['r'.repeat(10 * 1024), '"><script>alert(1)</script>', 'caf\u00e9-id', 'a,b-id-1']) {
      const probe = await send(world, sec, {
        method: 'POST',
        body: {},
        authorization: null,
        headers: { 'X-Request-Id': id },
        secrets: [id],
      })
      await expectRefused(probe, { status: 401, code: 'invalid_token', presented: false })
      expect(probe.res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
      expect(probe.res.headers['x-request-id']).not.toBe(id)
    }
    const twin = await send(world, sec, {
      ...(await goodSpec(world)),
      headers: { 'X-Request-Id': 'client-req.42' },
    })
    await expectIssued(twin)
    expect(twin.res.headers['x-request-id']).toBe('client-req.42')
  })

  it('SEC-099 distinct subjects, kids and paths add no metrics series and no claim values (bounded: 300 subjects, 300 kids, 2,000 paths)', async () => {
    const { world, sec } = shared()
    const series = async () => {
      // The registry /metrics serves (the main port has no /metrics unless server.metrics opens it).
      const text = await sec.adapters.deps.metrics.registry.metrics()
      // Node's own gauges (GC kinds, heap spaces) come and go with the runtime, not with requests.
      const own = text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#') && !/^sts_vend_(nodejs|process)_/.test(l))
      return { text: own.join('\n'), count: own.length }
    }
    // Warm every label combination the bulk will use once (/metrics itself included).
    await series()
    await request(sec.app).get('/nowhere-warm')
    await send(world, sec, await goodSpec(world, {}, { sub: 'warm-sub', groups: [] }))
    await send(world, sec, {
      method: 'POST',
      body: {},
      token: await mintToken(world.keys.attacker, world.good(), { kid: 'warm-kid' }),
    })
    await expectIssued(await send(world, sec, await goodSpec(world)))
    const before = await series()
    const subs = Array.from({ length: 300 }, () => `metric-sub-${freshSub()}`)
    for (const sub of subs)
      expect((await send(world, sec, await goodSpec(world, {}, { sub, groups: [] }))).res.status).toBe(403)
    for (let i = 0; i < 300; i++) {
      const token = await mintToken(world.keys.attacker, world.good(), { kid: `metric-kid-${i}` })
      expect((await send(world, sec, { method: 'POST', body: {}, token })).res.status).toBe(401)
    }
    for (let i = 0; i < 2000; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          request(sec.app)
            .get(`/metric-path-${i + j}`)
            .expect(404),
        ),
      )
    await expectIssued(await send(world, sec, await goodSpec(world)))
    const after = await series()
    const lines = (t: string) =>
      new Set(
        t
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('#'))
          .map((l) => l.replace(/ [^ ]+$/, '')),
      )
    const added = [...lines(after.text)].filter((l) => !lines(before.text).has(l))
    expect(added).toEqual([])
    expect(after.count).toBe(before.count)
    expectNoSentinel(after.text, [...subs.slice(0, 20), 'metric-kid-1', 'metric-path-1'], 'the metrics')
    expect(after.text).not.toContain('metric-')
    // 2,600 requests (600 of them signed tokens): a generous bound for a loaded runner, not a timing claim.
  }, 60_000)
})

describe('2c HTTP level, denial reasons', () => {
  it('SEC-085 the emulator sees the rule’s own RoleArn and rendered Policy on the twin', async () => {
    const { world, sec } = shared()
    const probe = await send(world, sec, await goodSpec(world, {}, { sub: freshSub() }))
    await expectIssued(probe)
    const last = lastAssumeRole(world)
    expect(last.RoleArn).toBe(sec.config.rules[0]?.roleArn)
    expect(last.Policy).toContain('examplebucket/users/')
    expect(expectedDenial).toBeTypeOf('function')
  })
})
