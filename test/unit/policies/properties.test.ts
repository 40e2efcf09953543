// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
// The §4.3 properties (test/fixtures/policy-properties.ts) hold for the real renderer; the security suite
// shows each one catches a planted bug.
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { renderGrant, sanitizeSessionName } from '../../../src/policies/index.ts'
import { P1, P2, P3, P4, P5, type Property } from '../../fixtures/policy-properties.ts'
import { fcOptions, RUNS } from '../../fixtures/rules-properties.ts'

const timings: string[] = []
async function timed(name: string, fn: () => void | Promise<void>) {
  const start = performance.now()
  await fn()
  timings.push(`${name}: ${RUNS} runs in ${Math.round(performance.now() - start)} ms`)
}
afterAll(() => {
  console.info(`fast-check timings\n  ${timings.join('\n  ')}`)
})

const PROPERTIES: [string, Property][] = [
  [
    'P1 containment: for generated rules and arbitrary claims, rendering refuses or stays inside literal + own value + "/"',
    P1,
  ],
  ['P2 length: every render is within the proven worst case, itself within 2048', P2],
  [
    'P3 injectivity: distinct accepted subjects get distinct prefixes, neither a string-prefix of the other',
    P3,
  ],
  ['P4 session name: for any rendered name, the RoleSessionName is 2-64 of [A-Za-z0-9.@_-]', P4],
  ['P5 narrowing monotonicity: whatever a narrowed policy allows, the rule allows too', P5],
]

describe('policy properties (docs/security-cases.md §4.3)', () => {
  it.each(PROPERTIES)('%s', async (name, property) => {
    await timed(name.slice(0, 2), () => fc.assert(property(renderGrant), fcOptions()))
  })

  it('P4b session name injectivity: distinct rendered names never share a RoleSessionName (issue 16 item 4)', async () => {
    const near = fc.string({ unit: fc.constantFrom('a', '_', '+', '=', '-', ' ', 'é', '0'), maxLength: 70 })
    await timed('P4b', () =>
      fc.assert(
        fc.property(near, near, (a, b) => {
          fc.pre(a !== b)
          expect(sanitizeSessionName(a)).not.toBe(sanitizeSessionName(b))
        }),
        fcOptions(),
      ),
    )
  })
})
