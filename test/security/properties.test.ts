// The fast-check properties of security-cases §4.3, each run on src and shown to catch a planted bug in a copy (mutants/).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import fc from 'fast-check'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.ts'
import { renderGrant } from '../../src/policies/index.ts'
import type { Caller } from '../../src/types.ts'
import { P1, P2, P3, P4, P5, type Property, type Renderer } from '../fixtures/policy-properties.ts'
import {
  callerFor,
  claimsArb,
  clientIpArb,
  compileGenerated,
  fcOptions,
  RUNS,
  ruleArb,
} from '../fixtures/rules-properties.ts'
import { makeParser } from './mutants/parse-copy.ts'
import { makeRenderer, type PlantedBug } from './mutants/render-copy.ts'
import { buildSecApp, startWorld } from './world.ts'

const MUTANT_RUNS = 1000

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
