// Group 2b of security-cases.md: claim-to-policy template injection through /v1/credentials, /v1/simulate and explain.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import request from 'supertest'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { createApp } from '../../src/app.ts'
import { runCli } from '../../src/cli.ts'
import { type Config, ConfigError, loadConfig } from '../../src/config/index.ts'
import { DEFAULT_ROLE_ARNS } from '../../src/emulator/index.ts'
import { compileRule } from '../../src/policies/compile.ts'
import { type CompiledRule, PRESETS, renderGrant } from '../../src/policies/index.ts'
import { bucketLocation, buildPolicy } from '../../src/policies/policy.ts'
import { createIssueCredentials, type GrantRenderer } from '../../src/services/issue-credentials.ts'
import { createStsService } from '../../src/sts/index.ts'
import type { Caller } from '../../src/types.ts'
import { captureIo } from '../fixtures/cli-io.ts'
import { cpuTimed } from '../fixtures/cpu-time.ts'
import { signRaw } from '../fixtures/forge.ts'
import {
  expectIssued,
  expectRefused,
  lastAssumeRole,
  type Refusal,
  type Spec,
  send,
} from '../fixtures/refusals.ts'
import { CATALOGUE, goodSpec } from './catalogue.ts'
import { expectedDenial } from './denial.ts'
import { runCatalogued, sharedWorld } from './run-catalogue.ts'
import {
  CORP,
  emulatorClient,
  freshSub,
  GOOD_TENANT,
  type SecApp,
  securityConfigDoc,
  type World,
} from './world.ts'

const shared = sharedWorld()
const r403: Refusal = { status: 403, code: 'access_denied' }
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-sec-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A good corp token with `claims` over the §0 payload. */
const spec = async (w: World, claims: Record<string, unknown>, body: unknown = {}): Promise<Spec> =>
  goodSpec(w, body, claims)

/** The raw payload of a good token with `"name": <literal>` (numbers JSON.stringify would round). */
function rawClaim(w: World, claims: Record<string, unknown>, name: string, literal: string): string {
  const payload = JSON.stringify(w.good({ ...claims, [name]: '__X__' })).replace('"__X__"', literal)
  return signRaw(w.keys.rs1, { alg: 'RS256', kid: 'rs1', typ: 'JWT' }, payload, 'RS256')
}

/** The real app over `rules` compiled without the load-time proofs (a bypass), or with its renderer replaced. */
async function bypassApp(
  base: SecApp,
  config: Config,
  render?: GrantRenderer,
  rules?: CompiledRule[],
): Promise<SecApp> {
  const { deps } = base.adapters
  const issueCredentials = createIssueCredentials({
    rules: rules ?? (await import('../../src/config/index.ts')).compileRules(config),
    sts: createStsService({ client: emulatorClient(config, deps.logger), cache: config.cache }),
    audit: deps.audit,
    minRemainingSeconds: config.cache.minRemainingSeconds,
    ...(render ? { render } : {}),
  })
  const app = createApp({ ...deps, issueCredentials })
  return { ...base, app, agent: () => request.agent(app) }
}

/** Writes the world's config and `claims` and runs `sts-vend explain --json`. */
async function explain(w: World, claims: Record<string, unknown>, req?: unknown) {
  const config = join(dir, 'config.yaml')
  writeFileSync(config, stringify(securityConfigDoc(w)))
  const claimsFile = join(dir, `claims-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(claimsFile, JSON.stringify(claims))
  const io = captureIo()
  const argv = ['explain', '--config', config, '--claims', claimsFile, '--json']
  if (req !== undefined) argv.push('--request', JSON.stringify(req))
  const code = await runCli(argv, io)
  return { code, out: io.stdout(), err: io.stderr() }
}

function configError(doc: Record<string, unknown>): ConfigError {
  try {
    loadConfig(doc)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('the config loaded')
}

describe('2b claim-to-policy template injection', () => {
  runCatalogued('template', shared)

  it('SEC-051 the renderer fed a quote-breaking value without validation still emits one escaped string', () => {
    const hostile = 'alice"}],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*'
    const document = buildPolicy({
      location: bucketLocation('examplebucket'),
      prefix: `users/${hostile}/`,
      single: false,
      access: PRESETS['read-write'],
      sourceIp: null,
      secureTransport: false,
    })
    const parsed = JSON.parse(JSON.stringify(document)) as { Statement: Record<string, unknown>[] }
    expect(parsed.Statement).toHaveLength(document.Statement.length)
    for (const statement of parsed.Statement) {
      expect(statement['Action']).not.toBe('*')
      const resources = [statement['Resource']].flat() as string[]
      for (const resource of resources) expect(resource.startsWith('acs:oss:*:*:examplebucket')).toBe(true)
    }
    expect(JSON.stringify(document)).toContain(JSON.stringify(hostile).slice(1, -1))
  })

  it('SEC-059 sub of 128 characters is accepted, 129 and 100,000 refused in O(1)', async () => {
    const { world, sec } = shared()
    const long = `a${'b'.repeat(127)}`
    await expectIssued(await send(world, sec, await spec(world, { sub: long })))
    expect(lastAssumeRole(world).Policy?.length).toBeLessThanOrEqual(2048)
    const over = `a${'b'.repeat(128)}`
    const probe = await send(world, sec, { ...(await spec(world, { sub: over })), secrets: [over] })
    await expectRefused(probe, r403)
    expectedDenial(probe, 'claim_unusable', 'sub')
    // 100,000 characters do not fit in an 8 KiB token, nor in Node's header limit: 431, no call...
    const huge = 'a'.repeat(100_000)
    const callsBefore = world.emulator.counters.snapshot().assumeRoleCalls
    // Node answers 431 and closes the socket; a client still writing the header may see the reset first.
    const tooBig = await send(world, sec, await spec(world, { sub: huge })).then(
      (p) => p.res.status,
      (err: NodeJS.ErrnoException) => err.code,
    )
    expect([431, 'ECONNRESET', 'EPIPE']).toContain(tooBig)
    expect(world.emulator.counters.snapshot().assumeRoleCalls).toBe(callsBefore)
    // ...and a verified caller carrying one (another path) is refused by the service in O(1).
    const caller: Caller = {
      issuerId: 'corp',
      issuer: CORP,
      subject: huge,
      claims: { sub: huge, groups: ['photo-app'] },
    }
    const { ms } = cpuTimed(() =>
      expect(() =>
        sec.adapters.deps.issueCredentials.decide(
          caller,
          { format: 'json' },
          { requestId: 'r', clientIp: '127.0.0.1' },
        ),
      ).toThrow(expect.objectContaining({ code: 'access_denied', reason: 'claim_unusable' })),
    )
    expect(ms).toBeLessThan(500)
  })

  it('SEC-062 numeric claims: 42 renders, negatives, floats, 1e21 and 2^53+1 are refused', async () => {
    const { world, sec } = shared()
    const team = { groups: ['team-app'] }
    const body = await expectIssued(
      await send(world, sec, { method: 'POST', body: {}, token: rawClaim(world, team, 'team', '42') }),
    )
    expect(body['prefix']).toBe('teams/42/')
    expect(lastAssumeRole(world).Policy).toContain('examplebucket/teams/42/')
    for (const literal of ['-5', '1e21', '0.1', '9007199254740993']) {
      const probe = await send(world, sec, {
        method: 'POST',
        body: {},
        token: rawClaim(world, team, 'team', literal),
      })
      await expectRefused(probe, r403)
      expectedDenial(probe, 'claim_unusable', 'team')
    }
  })

  it('SEC-063 no case folding: Alice and alice differ; Photo-App does not match photo-app', async () => {
    const { world, sec } = shared()
    const upper = await expectIssued(await send(world, sec, await spec(world, { sub: 'Alice' })))
    const lower = await expectIssued(await send(world, sec, await spec(world, { sub: 'alice' })))
    expect([upper['prefix'], lower['prefix']]).toEqual(['users/Alice/', 'users/alice/'])
    expect(upper['accessKeyId']).not.toBe(lower['accessKeyId'])
    const probe = await send(world, sec, await spec(world, { groups: ['Photo-App'] }))
    await expectRefused(probe, r403)
    expectedDenial(probe, 'no_rule_matched')
  })

  it('SEC-065 a dotted claim name and a nested path resolve the same way (nested) in credentials, simulate and explain', async () => {
    const { world, sec } = shared()
    const literalOnly = { groups: [], 'dept.name': 'photo', dept: { name: 'other' } }
    const nested = { groups: [], 'dept.name': 'other', dept: { name: 'photo' } }
    for (const path of ['/v1/credentials', '/v1/simulate']) {
      await expectRefused(await send(world, sec, { ...(await spec(world, literalOnly)), path }), r403)
    }
    await expectIssued(await send(world, sec, await spec(world, nested)))
    const simulated = await send(world, sec, { ...(await spec(world, nested)), path: '/v1/simulate' })
    expect(simulated.res.status).toBe(200)
    expect(simulated.res.body.rule).toBe('dept')
    expect((await explain(world, { iss: CORP, sub: 'alice', ...literalOnly })).code).toBe(3)
    const ok = await explain(world, { iss: CORP, sub: 'alice', ...nested })
    expect(ok.code).toBe(0)
    expect(ok.out).toContain('"dept"')
  })

  it('SEC-066 matches is anchored as a whole; an unbalanced pattern is refused at load', async () => {
    const { world, sec } = shared()
    for (const role of ['admin-evil', 'evil-ops', 'xadmin']) {
      const probe = await send(world, sec, await spec(world, { groups: [], role }))
      await expectRefused(probe, r403)
      expectedDenial(probe, 'no_rule_matched')
    }
    for (const role of ['admin', 'ops'])
      await expectIssued(await send(world, sec, await spec(world, { groups: [], role })))
    const doc = securityConfigDoc(world)
    doc['rules'][4].when.role.matches = 'x)|('
    expect(
      configError(doc)
        .problems.map((p) => p.path)
        .join(),
    ).toMatch(/rules\[4\]\.when\.role\.matches/)
  })

  it('SEC-067 catastrophic patterns are refused at load; matching a long claim stays fast', async () => {
    const { world, sec } = shared()
    // Issue 16 item 1: patterns run on a linear-time engine (RE2); what it cannot run is refused, naming the rule.
    for (const pattern of ['(a)\\1', 'a(?=b)', '.{0,999}']) {
      const doc = securityConfigDoc(world)
      doc['rules'][4].when.role.matches = pattern
      const problem = configError(doc).problems.find((p) => p.path === 'rules[4].when.role.matches')
      expect(problem?.message).toMatch(/^rule "matcher": /)
    }
    const caller = (role: unknown): Caller => ({
      issuerId: 'corp',
      issuer: CORP,
      subject: 'alice',
      claims: { sub: 'alice', groups: [], role },
    })
    // Unrolled quantifiers the old nested-quantifier check let through: ~1 s and ~105 s on a backtracking engine.
    for (const [pattern, role] of [
      ['.*\\..*\\..*\\..*@corp', 'a.'.repeat(128)],
      ['\\w*\\w*\\w*\\w*\\w*!', 'a'.repeat(250)],
      ['(a+)+$', `${'a'.repeat(255)}!`],
    ] as const) {
      const doc = securityConfigDoc(world)
      doc['rules'][4].when.role.matches = pattern
      const app = await (await import('./world.ts')).buildSecApp(world, {
        patch: (d) => Object.assign(d, doc),
      })
      try {
        const decide = (value: unknown) => () =>
          app.adapters.deps.issueCredentials.decide(
            caller(value),
            { format: 'json' },
            { requestId: 'r', clientIp: '127.0.0.1' },
          )
        expect(decide('warm')).toThrow(expect.objectContaining({ code: 'access_denied' }))
        for (const value of [role, Array.from({ length: 20 }, () => role)]) {
          const { ms } = cpuTimed(() =>
            expect(decide(value)).toThrow(expect.objectContaining({ code: 'access_denied' })),
          )
          expect(ms).toBeLessThan(500)
        }
      } finally {
        await app.close()
      }
    }
    // Over the limits (a value over 256 characters, 65 elements): a denial, never a fall-through.
    for (const role of ['a'.repeat(257), Array.from({ length: 65 }, () => 'x')]) {
      const probe = await send(world, sec, await spec(world, { groups: [], role }))
      await expectRefused(probe, r403)
      expectedDenial(probe, 'match_limit_exceeded')
    }
    await expectIssued(await send(world, sec, await spec(world, { groups: [], role: 'admin' })))
  })

  it('when a caller names a later rule it matches but which is not selectable, then it is 403 with no STS call (issue 16 item 2)', async () => {
    const { world, sec } = shared()
    const both = { sub: freshSub(), groups: ['photo-app', 'admins'] }
    const probe = await send(world, sec, await spec(world, both, { rule: 'admins' }))
    await expectRefused(probe, r403)
    expectedDenial(probe, 'requested_rule_not_matched')
    await expectIssued(await send(world, sec, await spec(world, both, { rule: 'app-users' })))
    await expectIssued(await send(world, sec, await spec(world, both)))
  })

  it('when a prefix begins with a variable, then a claim value could pick any top-level folder, and the config is refused at load naming the rule (issue 16 item 3)', () => {
    const { world } = shared()
    for (const prefix of ['${claim.team}/', '${sub}/', 'x${sub}/']) {
      const doc = securityConfigDoc(world)
      doc['rules'][1].oss.prefix = prefix
      const problem = configError(doc).problems.find((p) => p.path === 'rules[1].oss.prefix')
      expect(problem?.message).toMatch(/^rule "teams": must start with a literal folder/)
    }
  })

  it('SEC-069 worst case 2,049 refused at load, 2,048 starts, a runtime overflow is a 500 with no call', async () => {
    const { world, sec } = shared()
    const padded = (n: number) => {
      const doc = securityConfigDoc(world)
      const literal = Array.from({ length: Math.ceil(n / 100) }, () => 'p'.repeat(99))
        .join('/')
        .slice(0, n)
        .replace(/\/$/, 'p')
      doc['rules'][0].oss = { ...doc['rules'][0].oss, prefix: `${literal}/\${sub}/`, access: 'upload-only' }
      doc['rules'][0].conditions = { sourceIp: 'request', secureTransport: true }
      return doc
    }
    const worst = (n: number) => compileRule(loadConfig(padded(1)).rules[0]!, 0).rule!.worstCaseLength + n - 1
    const fits = 2048 - worst(1) + 1
    expect(worst(fits)).toBe(2048)
    const started = await (await import('./world.ts')).buildSecApp(world, {
      patch: (d) => Object.assign(d, padded(fits)),
    })
    try {
      await expectIssued(await send(world, started, await spec(world, { sub: freshSub() })))
    } finally {
      await started.close()
    }
    const refused = configError(padded(fits + 1))
    expect(refused.message).toContain('2049')
    // Bypass the load check with a prefix so long that even an IPv4 caller renders past 2,048.
    const tooLong = loadConfig(padded(1))
    const bypassed = padded(fits + 200)['rules'][0].oss.prefix as string
    const rule0 = tooLong.rules[0]!
    const config: Config = {
      ...tooLong,
      rules: [{ ...rule0, oss: { ...rule0.oss, prefix: bypassed } }, ...tooLong.rules.slice(1)],
    }
    const compiled = config.rules.map((r, i) => compileRule(r, i).rule!)
    const app = await bypassApp(sec, config, undefined, compiled)
    const probe = await send(world, app, await spec(world, { sub: 'z'.repeat(128) }))
    await expectRefused(probe, { status: 500, code: 'server_error' })
    expectedDenial(probe, 'policy_too_long')
  })

  it('SEC-070 the Policy STS receives is byte-identical to the one checked and hashed', async () => {
    const { world, sec } = shared()
    const request_ = await spec(world, { sub: freshSub() }, { prefix: undefined })
    const simulated = await send(world, sec, { ...request_, path: '/v1/simulate' })
    expect(simulated.res.status).toBe(200)
    await expectIssued(await send(world, sec, request_))
    const sent = lastAssumeRole(world).Policy ?? ''
    expect(sent).toBe(simulated.res.body.policy)
    expect(sent.length).toBe(simulated.res.body.policyLength)
    expect(sent.length).toBeLessThanOrEqual(2048)
    const issued = sec.lines.filter((l) => l['event'] === 'credentials.issued').at(-1)
    expect(issued?.['policy_sha256']).toBe(createHash('sha256').update(sent).digest('hex'))
  })

  it('SEC-075 the outgoing RoleSessionName always matches ^[A-Za-z0-9.@_-]{2,64}$', async () => {
    const { world, sec } = shared()
    const cases: [string, RegExp][] = [
      // Issue 16 item 4: a changed or cut name carries 16 hex of the sha256 of the rendered name.
      ['a+b@x.com', /^a_b@x\.com-[0-9a-f]{16}$/],
      [`${'e'.repeat(114)}@x.com`, /^e{47}-[0-9a-f]{16}$/],
      ['x', /^x-[0-9a-f]{16}$/],
    ]
    for (const [email, shape] of cases) {
      await expectIssued(
        await send(world, sec, await spec(world, { sub: freshSub(), groups: ['mail-app'], email })),
      )
      const name = lastAssumeRole(world).RoleSessionName ?? ''
      expect(name).toMatch(SESSION_NAME)
      expect(name).toMatch(shape)
    }
    const probe = await send(
      world,
      sec,
      await spec(world, { sub: freshSub(), groups: ['mail-app'], email: `${'e'.repeat(194)}@x.com` }),
    )
    await expectRefused(probe, r403)
    expectedDenial(probe, 'claim_unusable', 'email')
  })

  it('SEC-077 an ExternalId template with a short or disallowed value is 403; a templated roleArn is refused at load', async () => {
    const { world, sec } = shared()
    for (const tenant of ['x', 'a b', 'a;b', 'a"b']) {
      const probe = await send(world, sec, {
        ...(await spec(world, { groups: ['broker'], tenant })),
        secrets: tenant.length > 4 ? [tenant] : [],
      })
      await expectRefused(probe, r403)
      expectedDenial(probe, 'claim_unusable')
    }
    await expectIssued(await send(world, sec, await spec(world, { groups: ['broker'], tenant: GOOD_TENANT })))
    expect(lastAssumeRole(world)).toMatchObject({
      RoleArn: DEFAULT_ROLE_ARNS.partner,
      ExternalId: GOOD_TENANT,
    })
    const doc = securityConfigDoc(world)
    doc['rules'][0].roleArn = 'acs:ram::${claim.account}:role/x'
    expect(configError(doc).problems.map((p) => p.path)).toContain('rules[0].roleArn')
  })

  it('SEC-078 a renderer that yields no policy is a 500 with no AssumeRole', async () => {
    const { world, sec } = shared()
    for (const policy of ['', undefined]) {
      const app = await bypassApp(sec, sec.config, (...args) => ({
        ...renderGrant(...args),
        policy: policy as string,
      }))
      await expectRefused(await send(world, app, await spec(world, { sub: freshSub() })), {
        status: 500,
        code: 'server_error',
      })
    }
    expect(world.emulator.counters.snapshot().policylessCalls).toBe(0)
    await expectIssued(await send(world, sec, await spec(world, { sub: freshSub() })))
  })

  it('SEC-079 simulate and explain give the same decision as credentials; simulate is scoped and can be off', async () => {
    const { world, sec } = shared()
    const replayed = CATALOGUE.filter((c) => c.group === 'template' && c.build && c.id <= 'SEC-077')
    expect(replayed.length).toBeGreaterThan(8)
    for (const record of replayed) {
      for (const [variant, hostile] of Object.entries((await record.build?.(world)) ?? {})) {
        const want = typeof record.expect === 'function' ? record.expect(variant) : record.expect
        const probe = await send(world, sec, { ...hostile, path: '/v1/simulate' })
        await expectRefused(probe, want as Refusal)
        if (
          want?.status === 403 &&
          hostile.token &&
          hostile.body &&
          Object.keys(hostile.body as object).length === 0
        ) {
          const claims = decodeJwt(hostile.token) as Record<string, unknown>
          const out = await explain(world, claims)
          expect(out.code, `${record.id} ${variant} via explain`).toBe(3)
        }
      }
    }
    const twin = await explain(world, { iss: CORP, sub: 'alice', groups: ['photo-app'] })
    expect(twin.code).toBe(0)
    // Scope: a corp caller's simulate lists corp's rules only; nothing of partner's.
    const corp = await send(world, sec, { ...(await spec(world, {})), path: '/v1/simulate' })
    expect(corp.res.status).toBe(200)
    const ids = (corp.res.body.rules as { id: string }[]).map((r) => r.id)
    expect(ids).toContain('app-users')
    expect(ids).not.toContain('partner-users')
    expect(corp.res.text).not.toContain('partner/')
    expect(world.emulator.counters.snapshot().assumeRoleCalls - corp.before.calls).toBe(0)
    // The off switch.
    const off = await (await import('./world.ts')).buildSecApp(world, {
      patch: (d) => Object.assign(d.server, { simulate: false }),
    })
    try {
      await expectRefused(await send(world, off, { ...(await spec(world, {})), path: '/v1/simulate' }), {
        status: 404,
        code: 'not_found',
      })
    } finally {
      await off.close()
    }
  })
})
