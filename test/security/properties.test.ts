// The fast-check properties of security-cases §4.3, each run on src and shown to catch a planted bug in a copy (mutants/).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import fc from 'fast-check'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.ts'
import { evaluatePolicy, type PolicyDocument, renderGrant } from '../../src/policies/index.ts'
import type { Caller, Grant } from '../../src/types.ts'
import { appUsers, callerOf, compileOne } from '../fixtures/rules.ts'
import {
  assertContained,
  callerFor,
  claimsArb,
  clientIpArb,
  compileGenerated,
  fcOptions,
  hostileString,
  RUNS,
  ruleArb,
  safeValue,
} from '../fixtures/rules-properties.ts'
import { makeParser } from './mutants/parse-copy.ts'
import { makeRenderer, type PlantedBug, type Renderer } from './mutants/render-copy.ts'
import { buildSecApp, startWorld } from './world.ts'

const MUTANT_RUNS = 1000
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/

/** A grant, or 'refused' for a typed 400/403; anything else (a 500, a TypeError) is rethrown. */
function attempt(render: Renderer, ...args: Parameters<Renderer>): Grant | 'refused' {
  try {
    return render(...args)
  } catch (err) {
    if (err instanceof AppError && (err.code === 'access_denied' || err.code === 'invalid_request'))
      return 'refused'
    throw err
  }
}

type Property = (render: Renderer) => fc.IProperty<never> | fc.IPropertyWithHooks<never>

const P1: Property = (render) =>
  fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
    const rule = compileGenerated(generated)
    fc.pre(rule !== null)
    const caller = callerFor(claims)
    const outcome = attempt(render, rule!, caller, { format: 'json' }, { clientIp })
    if (outcome !== 'refused')
      assertContained(outcome, generated.prefix, caller, 'accessPoint' in (generated.raw['oss'] as object))
  }) as never

const P2: Property = (render) =>
  fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
    const rule = compileGenerated(generated)
    fc.pre(rule !== null)
    expect(rule!.worstCaseLength).toBeLessThanOrEqual(2048)
    const outcome = attempt(render, rule!, callerFor(claims), { format: 'json' }, { clientIp })
    if (outcome !== 'refused') expect(outcome.policy.length).toBeLessThanOrEqual(rule!.worstCaseLength)
  }) as never

const users = compileOne(appUsers({ sessionName: '${sub}' }))
const P3: Property = (render) =>
  fc.property(
    fc.oneof(safeValue, hostileString, fc.constantFrom('Alice', 'alice')),
    fc.oneof(safeValue, hostileString, fc.constantFrom('alice', 'ALICE')),
    (a, b) => {
      fc.pre(a !== b)
      const ga = attempt(
        render,
        users,
        callerOf({ sub: a, groups: ['photo-app'] }),
        { format: 'json' },
        { clientIp: '127.0.0.1' },
      )
      const gb = attempt(
        render,
        users,
        callerOf({ sub: b, groups: ['photo-app'] }),
        { format: 'json' },
        { clientIp: '127.0.0.1' },
      )
      if (ga === 'refused' || gb === 'refused') return
      expect(ga.oss.prefix).not.toBe(gb.oss.prefix)
      expect(ga.oss.prefix.startsWith(gb.oss.prefix) || gb.oss.prefix.startsWith(ga.oss.prefix)).toBe(false)
    },
  ) as never

const P4: Property = (render) =>
  fc.property(
    fc.oneof(
      safeValue,
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$/),
      fc.constantFrom('a+b@x.com', 'x'),
    ),
    (sub) => {
      const grant = attempt(
        render,
        users,
        callerOf({ sub, groups: ['photo-app'] }),
        { format: 'json' },
        { clientIp: '127.0.0.1' },
      )
      if (grant !== 'refused') expect(grant.sessionName).toMatch(SESSION_NAME)
    },
  ) as never

const narrowing = fc.oneof(
  fc.constantFrom(
    'users/alice/',
    'users/alice/a/',
    'users/alice/a.jpg',
    'users/bob/',
    'users/alicex/',
    'users/',
    'users/alice/../bob/',
    'users/alice//x',
    'users/\u0430lice/',
  ),
  fc
    .tuple(fc.constantFrom('users/alice/', 'users/bob/', 'users/', ''), safeValue, fc.boolean())
    .map(([base, v, folder]) => `${base}${v}${folder ? '/' : ''}`),
)
const sampleKeys = [
  'users/alice/a.jpg',
  'users/alice/x/y',
  'users/bob/a.jpg',
  'users/alicex/a',
  'users/a.jpg',
  'other',
  'users/alice/../bob/a',
  'users//alice/a',
]
const actions = ['oss:GetObject', 'oss:PutObject', 'oss:DeleteObject']
const P5: Property = (render) =>
  fc.property(
    narrowing,
    fc.constantFrom<undefined | 'read' | 'upload-only'>(undefined, 'read', 'upload-only'),
    (prefix, access) => {
      const alice = callerOf({ sub: 'alice', groups: ['photo-app'] })
      const narrowed = attempt(
        render,
        users,
        alice,
        { format: 'json', prefix, ...(access ? { access } : {}) },
        { clientIp: '127.0.0.1' },
      )
      if (narrowed === 'refused') return
      const full = renderGrant(users, alice, { format: 'json' }, { clientIp: '127.0.0.1' })
      const allows = (policy: string, action: string, key: string) =>
        evaluatePolicy(JSON.parse(policy) as PolicyDocument, {
          action,
          resource: `acs:oss:*:*:examplebucket/${key}`,
          context: { 'acs:SecureTransport': 'true' },
        }).decision === 'allow'
      for (const action of actions)
        for (const key of [...sampleKeys, prefix])
          if (allows(narrowed.policy, action, key))
            expect(allows(full.policy, action, key), `${action} ${key}`).toBe(true)
    },
  ) as never

const PROPERTIES: [string, Property, PlantedBug][] = [
  ['P1 containment', P1, 'anyValue'],
  ['P2 length', P2, 'unbudgetedSid'],
  ['P3 injectivity', P3, 'caseFolded'],
  ['P4 session name', P4, 'rawSessionName'],
  ['P5 narrowing monotonicity', P5, 'narrowAnywhere'],
]

describe('§4.3 properties on the renderer, each non-vacuous', () => {
  it('when the copy has no bug planted, then it renders exactly what src renders (the mutants are faithful copies)', () => {
    const copy = makeRenderer(null)
    fc.assert(
      fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
        const rule = compileGenerated(generated)
        fc.pre(rule !== null)
        const caller: Caller = callerFor(claims)
        const outcome = (r: Renderer) => {
          try {
            return r(rule!, caller, { format: 'json' }, { clientIp }).policy
          } catch (err) {
            return (err as AppError).code
          }
        }
        expect(outcome(copy)).toBe(outcome(renderGrant))
      }),
      { ...fcOptions(), numRuns: 2000 },
    )
  })

  it.each(PROPERTIES)('%s holds for src over RUNS runs (seed printed on failure)', (_name, property) => {
    fc.assert(property(renderGrant), { ...fcOptions(), numRuns: RUNS })
  })

  it.each(PROPERTIES)(
    '%s fails within 1,000 runs on the copy with bug %s planted',
    (_name, property, bug) => {
      const result = fc.check(property(makeRenderer(bug)), { numRuns: MUTANT_RUNS })
      expect(result.failed).toBe(true)
    },
  )
})

describe('P6 parser totality', () => {
  const bytes = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  )
  const queries = fc.oneof(
    bytes,
    fc.constantFrom('%', '%E0%A4%A', 'format=%zz', '__proto__[x]=1', 'durationSeconds=1e400'),
  )
  const totality = (parse: ReturnType<typeof makeParser>) =>
    fc.property(queries, bytes, fc.boolean(), (search, body, simulate) => {
      try {
        parse(search, Buffer.from(body), { simulate })
      } catch (err) {
        expect(err).toBeInstanceOf(AppError)
        expect((err as AppError).status).toBeGreaterThanOrEqual(400)
        expect((err as AppError).status).toBeLessThan(500)
      }
    })

  it('P6 for arbitrary query and body bytes the parser answers a 4xx or a request, never anything else', () => {
    fc.assert(totality(makeParser(false)), { ...fcOptions(), numRuns: RUNS })
  })

  it('P6 fails within 1,000 runs on the copy that percent-decodes the query by hand', () => {
    expect(fc.check(totality(makeParser(true)), { numRuns: MUTANT_RUNS }).failed).toBe(true)
  })

  it('P6 arbitrary bytes as Authorization, query or body give a 4xx from the real app and never an STS call (300 runs)', async () => {
    const world = await startWorld()
    const sec = await buildSecApp(world)
    try {
      const before = world.emulator.counters.snapshot().assumeRoleCalls
      const header = fc
        .string({ unit: 'binary', maxLength: 120 })
        .map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, ''))
      await fc.assert(
        fc.asyncProperty(header, fc.string({ maxLength: 60 }), bytes, async (authorization, query, body) => {
          const res = await request(sec.app)
            .post(`/v1/credentials?${encodeURI(query)}`)
            .set('Authorization', authorization)
            .set('Content-Type', 'application/json')
            .send(body)
          expect(res.status).toBeGreaterThanOrEqual(400)
          expect(res.status).toBeLessThan(500)
        }),
        { ...fcOptions(), numRuns: 300 },
      )
      expect(world.emulator.counters.snapshot().assumeRoleCalls).toBe(before)
    } finally {
      await sec.close()
      await world.close()
    }
  })
})
