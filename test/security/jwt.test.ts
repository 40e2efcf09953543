// Group 2a of security-cases.md: JWT attacks against the real app (catalogue records plus the cases that need their own setup).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.ts'
import { epochSeconds, mintToken } from '../fixtures/issuer.ts'
import { type JwksStub, startJwksStub } from '../fixtures/jwks-server.ts'
import { expectIssued, expectRefused, send } from '../fixtures/refusals.ts'
import { goodSpec } from './catalogue.ts'
import { runCatalogued, sharedWorld } from './run-catalogue.ts'
import { buildSecApp, PARTNER, type SecApp, securityConfigDoc } from './world.ts'

const shared = sharedWorld()
const r401 = { status: 401, code: 'invalid_token' } as const

afterEach(() => {
  vi.useRealTimers()
})

/** Freezes Date (only Date: sockets and timers keep running) at the current instant. */
function freezeClock(): Date {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000)
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(now)
  return now
}

describe('2a JWT attacks', () => {
  runCatalogued('jwt', shared)

  it('SEC-013 nbf 31 s ahead is refused, 30 s ahead is accepted (tolerance 30 s, frozen clock)', async () => {
    const { world, sec } = shared()
    const now = epochSeconds(freezeClock())
    const early = {
      method: 'POST' as const,
      body: {},
      token: await world.sign(world.good({ nbf: now + 31 })),
    }
    await expectRefused(await send(world, sec, early), r401)
    await expectIssued(
      await send(world, sec, { ...early, token: await world.sign(world.good({ nbf: now + 30 })) }),
    )
  })

  it('SEC-014 iat 31 s ahead is refused and 30 s ahead accepted, with and without maxTokenAgeSeconds', async () => {
    const { world, sec } = shared()
    const noMaxAge = await buildSecApp(world, {
      patch: (doc) => {
        delete doc['issuers'][0].maxTokenAgeSeconds
      },
    })
    try {
      const now = epochSeconds(freezeClock())
      for (const app of [sec, noMaxAge]) {
        const at = (iat: number) => world.sign(world.good({ iat, exp: iat + 600 }))
        // The twin first: a new app fetches corp's keys once.
        await expectIssued(await send(world, app, { method: 'POST', body: {}, token: await at(now + 30) }))
        await expectRefused(
          await send(world, app, { method: 'POST', body: {}, token: await at(now + 31) }),
          r401,
        )
      }
    } finally {
      await noMaxAge.close()
    }
  })

  it('SEC-017 clockToleranceSeconds outside 0..300 integers is refused at load', () => {
    const { world } = shared()
    for (const value of [86400, -1, 1.5, '30']) {
      const doc = securityConfigDoc(world)
      doc['issuers'][0].clockToleranceSeconds = value
      let error: unknown
      try {
        loadConfig(doc)
      } catch (err) {
        error = err
      }
      expect(error, JSON.stringify(value)).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).problems.map((p) => p.path)).toContain('issuers[0].clockToleranceSeconds')
    }
    const twin = securityConfigDoc(world)
    twin['issuers'][0].clockToleranceSeconds = 300
    const first = loadConfig(twin).issuers[0]
    expect(first?.type === 'oidc' ? first.clockToleranceSeconds : undefined).toBe(300)
  })

  it('SEC-026 a partner token for sub alice never matches a corp rule', async () => {
    const { world, sec } = shared()
    const partnerAlice = await mintToken(world.keys.partnerRs1, world.good({}, PARTNER))
    const probe = await send(world, sec, { method: 'POST', body: {}, token: partnerAlice })
    await expectRefused(probe, { status: 403, code: 'access_denied', jwks: { max: 1 } })
    const denied = sec.lines.filter((l) => l['event'] === 'credentials.denied').at(-1)
    expect(denied).toMatchObject({ iss: PARTNER, sub: 'alice', reason: 'no_rule_matched' })
    // Twin: partner's own rule answers, audited as partner's alice, with credentials of its own.
    const token = await mintToken(world.keys.partnerRs1, world.good({ groups: ['partner-app'] }, PARTNER))
    const partnerBody = await expectIssued(await send(world, sec, { method: 'POST', body: {}, token }))
    expect(sec.lines.filter((l) => l['event'] === 'credentials.issued').at(-1)).toMatchObject({
      iss: PARTNER,
      sub: 'alice',
      rule: 'partner-users',
    })
    const corpBody = await expectIssued(await send(world, sec, await goodSpec(world)))
    expect(corpBody['accessKeyId']).not.toBe(partnerBody['accessKeyId'])
  })

  it('SEC-027 1,000 random-kid tokens in 10 s cause at most 2 JWKS fetches', async () => {
    const { world, sec } = shared()
    const before = world.corp.total()
    const started = Date.now()
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, () =>
        mintToken(world.keys.attacker, world.good(), { kid: `k-${Math.random().toString(36).slice(2)}` }),
      ),
    )
    const statuses: number[] = []
    for (let i = 0; i < tokens.length; i += 50) {
      const batch = tokens.slice(i, i + 50)
      if (i === 0 || i + 50 >= tokens.length) {
        // The first and the last go through every invariant.
        const [first, ...rest] = batch
        await expectRefused(await send(world, sec, { method: 'POST', body: {}, token: first ?? '' }), {
          ...r401,
          jwks: { max: 1 },
        })
        statuses.push(401)
        batch.splice(0, batch.length, ...rest)
      }
      const answers = await Promise.all(
        batch.map((token) => send(world, sec, { method: 'POST', body: {}, token }).then((p) => p.res.status)),
      )
      statuses.push(...answers)
    }
    // The bound is the cooldown's, one refetch per 30 s window beside the first fetch: J <= 2 for a run
    // inside one window (the catalogue's 10 s), and no timing claim that a loaded runner could break.
    const windows = Math.ceil((Date.now() - started) / 30_000)
    expect(statuses).toHaveLength(1000)
    expect(new Set(statuses)).toEqual(new Set([401]))
    expect(world.corp.total() - before).toBeLessThanOrEqual(1 + windows)
    await expectIssued(await send(world, sec, await goodSpec(world)))
  })

  it('SEC-029 rotation rs1 to rs2 works without restart; removed rs1 is refused after cacheMaxAge', async () => {
    const { world } = shared()
    const { rs1, rs2, es1, ed25519 } = world.keys
    const now = freezeClock()
    const app = await buildSecApp(world, { warm: false })
    try {
      await expectIssued(await send(world, app, { method: 'POST', body: {}, token: await world.sign() }))
      world.corp.setKeys([rs2.publicJwk, es1.publicJwk, ed25519.publicJwk])
      vi.setSystemTime(new Date(now.getTime() + 31_000))
      const before = world.corp.total()
      const rotated = await mintToken(rs2, world.good())
      await expectIssued(await send(world, app, { method: 'POST', body: {}, token: rotated }))
      expect(world.corp.total() - before).toBe(1)
      vi.setSystemTime(new Date(now.getTime() + 11 * 60_000))
      const stale = await mintToken(rs1, world.good())
      await expectRefused(await send(world, app, { method: 'POST', body: {}, token: stale }), {
        ...r401,
        jwks: 1,
      })
    } finally {
      world.corp.setKeys([rs1.publicJwk, es1.publicJwk, ed25519.publicJwk])
      await app.close()
    }
  })

  describe('with a misbehaving JWKS of its own', () => {
    let bad: JwksStub
    let app: SecApp | undefined
    afterEach(async () => {
      await app?.close()
      app = undefined
      await bad.close()
    })

    async function appOn(stub: JwksStub, discovery = false): Promise<SecApp> {
      const { world } = shared()
      return buildSecApp(world, {
        warm: false,
        patch: (doc) => {
          if (discovery) {
            doc['issuers'].push({
              id: 'disco',
              issuer: stub.issuer,
              audiences: ['sts-vend'],
              discovery: true,
              algorithms: ['RS256'],
            })
            doc['rules'].push({
              id: 'disco-users',
              issuer: 'disco',
              roleArn: doc['rules'][0].roleArn,
              oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'd/${sub}/', access: 'read' },
            })
          } else {
            doc['issuers'][0].jwksUri = stub.jwksUri
          }
        },
      })
    }

    it.each([
      ['a 302 to the attacker host', { redirectTo: 'evil' }],
      ['a 50 MB body', { bodyBytes: 50 * 1024 * 1024 }],
      ['invalid JSON', { body: '{"keys":[' }],
      ['a private JWK', { privateKey: true }],
      ['text/html', { contentType: 'text/html' }],
    ])(
      'SEC-030 a hostile JWKS answer (%s) leaves the issuer not ready and its tokens refused',
      async (_name, fault) => {
        const { world } = shared()
        bad = await startJwksStub({ keys: [world.keys.rs1.publicJwk] })
        if ('privateKey' in fault) bad.setKeys([world.keys.rs1.privateJwk])
        else if ('redirectTo' in fault) bad.fault({ redirectTo: world.evil.jwksUri })
        else bad.fault(fault)
        app = await appOn(bad)
        const rss = process.memoryUsage().rss
        const probe = await send(world, app, { method: 'POST', body: {}, token: await world.sign() })
        await expectRefused(probe, { status: 503, code: 'upstream_unavailable' })
        expect(bad.counts.jwks).toBe(1)
        expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024)
        expect((await app.agent().get('/readyz')).status).toBe(503)
        // Twin: the same issuer on a healthy JWKS is ready and accepts the token.
        bad.fault(undefined)
        bad.setKeys([world.keys.rs1.publicJwk])
        await app.close()
        app = await appOn(bad)
        await expectIssued(await send(world, app, { method: 'POST', body: {}, token: await world.sign() }))
        expect((await app.agent().get('/readyz')).status).toBe(200)
      },
    )

    it('SEC-030 two keys with kid rs1: tokens naming it are refused (no trying each key) with a config warning', async () => {
      const { world } = shared()
      bad = await startJwksStub({ keys: [world.keys.rs1.publicJwk, world.keys.partnerRs1.publicJwk] })
      app = await appOn(bad)
      await expectRefused(
        await send(world, app, { method: 'POST', body: {}, token: await world.sign() }),
        r401,
      )
      expect(bad.counts.jwks).toBe(1)
      expect(app.lines.filter((l) => l['event'] === 'auth.jwks_duplicate_kid')).toEqual([
        expect.objectContaining({ level: 'warn', kids: ['rs1'] }),
      ])
      bad.setKeys([world.keys.rs1.publicJwk])
      await app.close()
      app = await appOn(bad)
      await expectIssued(await send(world, app, { method: 'POST', body: {}, token: await world.sign() }))
    })

    it.each([
      ['names another issuer', (s: JwksStub) => ({ issuer: 'https://other.example/', jwks_uri: s.jwksUri })],
      [
        'has an http jwks_uri on a non-loopback host',
        (s: JwksStub) => ({ issuer: s.issuer, jwks_uri: 'http://jwks.example.test/jwks.json' }),
      ],
    ])(
      'SEC-031 a discovery document that %s is refused: not ready, no token accepted',
      async (_name, doc) => {
        const { world } = shared()
        bad = await startJwksStub({ keys: [world.keys.rs1.publicJwk] })
        bad.setDiscovery(doc(bad))
        app = await appOn(bad, true)
        const token = await world.sign(world.good({}, bad.issuer))
        await expectRefused(await send(world, app, { method: 'POST', body: {}, token }), {
          status: 503,
          code: 'upstream_unavailable',
        })
        expect(bad.counts.discovery).toBe(1)
        expect(bad.counts.jwks).toBe(0)
        expect((await app.agent().get('/readyz')).status).toBe(503)
        bad.setDiscovery(undefined)
        await app.close()
        app = await appOn(bad, true)
        await expectIssued(await send(world, app, { method: 'POST', body: {}, token }))
      },
    )
  })

  it('SEC-033 a claim nested 1,000 deep is no 500 and is never logged whole', async () => {
    const { world, sec } = shared()
    const deep = `${'{"":'.repeat(1000)}1${'}'.repeat(1000)}`
    const payload = JSON.stringify(world.good()).replace(/^\{/, `{"deep":${deep},`)
    const { signRaw } = await import('../fixtures/forge.ts')
    const token = signRaw(world.keys.rs1, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, payload, 'RS256')
    expect(token.length).toBeLessThanOrEqual(8192)
    const probe = await send(world, sec, { method: 'POST', body: {}, token, secrets: ['{"":{"":{"":'] })
    await expectIssued(probe)
    // The hostile twin: the same depth in a caller no rule matches is a 403, not a 500.
    const other = signRaw(
      world.keys.rs1,
      { alg: 'RS256', kid: 'rs1', typ: 'JWT' },
      payload.replace('"photo-app"', '"nobody"'),
      'RS256',
    )
    await expectRefused(
      await send(world, sec, { method: 'POST', body: {}, token: other, secrets: ['{"":{"":{"":'] }),
      {
        status: 403,
        code: 'access_denied',
      },
    )
  })

  it('SEC-047 Authorization scheme, spacing, duplicates and tokens outside the header', async () => {
    const { world, sec } = shared()
    const token = await world.sign()
    // Twins: the scheme is case-insensitive.
    for (const scheme of ['Bearer', 'bearer', 'BEARER'])
      await expectIssued(
        await send(world, sec, { method: 'POST', body: {}, token, authorization: `${scheme} ${token}` }),
      )
    const refused: [string, string | string[] | null, unknown, string | undefined, boolean][] = [
      // design §6.1: exactly one space between scheme and token (the catalogue's 1*SP is not the contract).
      ['two spaces', `Bearer  ${token}`, {}, undefined, true],
      ['Basic', `Basic ${token}`, {}, undefined, false],
      ['trailing word', `Bearer ${token} x`, {}, undefined, true],
      ['no token', 'Bearer', {}, undefined, true],
      ['two headers', [`Bearer ${token}`, `Bearer ${token}`], {}, undefined, true],
      ['query token', null, {}, `access_token=${token}`, false],
      ['body token', null, { access_token: token }, undefined, false],
    ]
    for (const [name, authorization, body, query, presented] of refused) {
      const spec = { method: 'POST' as const, body, authorization, token, ...(query ? { query } : {}) }
      const probe = await send(world, sec, spec)
      try {
        await expectRefused(probe, { ...r401, presented })
      } catch (err) {
        if (err instanceof Error) err.message = `SEC-047 [${name}]: ${err.message}`
        throw err
      }
    }
  })
})
