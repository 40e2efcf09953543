// Non-vacuity (security-cases §4.3): with the value check replaced by /.*/s, P1 must fail within 1,000 runs.
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  assertContained,
  callerFor,
  claimsArb,
  clientIpArb,
  compileGenerated,
  renderOrRefuse,
  ruleArb,
} from '../../fixtures/rules-properties.ts'

vi.mock('../../../src/policies/values.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/policies/values.ts')>()
  return {
    ...original,
    // The seeded bug: any string (or number) is a usable value.
    toTemplateValue: (raw: unknown) =>
      typeof raw === 'string' || typeof raw === 'number'
        ? { ok: true, value: String(raw) }
        : { ok: false, why: 'not a string' },
  }
})

describe('P1 with the value check removed', () => {
  it('when the value rules are bypassed, then the containment property finds a counterexample within 1,000 runs', () => {
    const result = fc.check(
      fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
        const rule = compileGenerated(generated)
        fc.pre(rule !== null)
        const caller = callerFor(claims)
        const outcome = renderOrRefuse(rule!, caller, clientIp)
        if (outcome !== 'refused')
          assertContained(
            outcome,
            generated.prefix,
            caller,
            'accessPoint' in (generated.raw['oss'] as object),
          )
      }),
      { numRuns: 1000 },
    )
    expect(result.failed).toBe(true)
  })
})
