// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../src/errors.ts'
import {
  evaluatePolicy,
  LISTING_ACTIONS,
  OBJECT_ACTIONS,
  type PolicyDocument,
  renderGrant,
  sanitizeSessionName,
} from '../../../src/policies/index.ts'
import type { AccessPreset } from '../../../src/types.ts'
import { appUsers, compileOne } from '../../fixtures/rules.ts'
import {
  assertContained,
  callerFor,
  claimsArb,
  clientIpArb,
  compileGenerated,
  fcOptions,
  hostileString,
  RUNS,
  renderOrRefuse,
  ruleArb,
  safeValue,
} from '../../fixtures/rules-properties.ts'

const timings: string[] = []
async function timed(name: string, fn: () => void | Promise<void>) {
  const start = performance.now()
  await fn()
  timings.push(`${name}: ${RUNS} runs in ${Math.round(performance.now() - start)} ms`)
}
afterAll(() => {
  console.info(`fast-check timings\n  ${timings.join('\n  ')}`)
})

describe('policy properties (security-cases §4.3)', () => {
  it('P1 containment: for generated rules and arbitrary claims, rendering refuses or stays inside literal + own value + "/"', async () => {
    let rendered = 0
    let refused = 0
    await timed('P1', () =>
      fc.assert(
        fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
          const rule = compileGenerated(generated)
          fc.pre(rule !== null)
          const caller = callerFor(claims)
          const outcome = renderOrRefuse(rule!, caller, clientIp)
          if (outcome === 'refused') {
            refused++
            return
          }
          rendered++
          assertContained(
            outcome,
            generated.prefix,
            caller,
            'accessPoint' in (generated.raw['oss'] as object),
          )
        }),
        fcOptions(),
      ),
    )
    // Non-vacuous both ways: many renders are checked, and many hostile values are refused.
    expect(rendered).toBeGreaterThan(RUNS / 10)
    expect(refused).toBeGreaterThan(RUNS / 10)
  })

  it('P2 length: every render is within the proven worst case, itself within 2048', async () => {
    await timed('P2', () =>
      fc.assert(
        fc.property(ruleArb, claimsArb, clientIpArb, (generated, claims, clientIp) => {
          const rule = compileGenerated(generated)
          fc.pre(rule !== null)
          expect(rule!.worstCaseLength).toBeLessThanOrEqual(2048)
          const outcome = renderOrRefuse(rule!, callerFor(claims), clientIp)
          if (outcome !== 'refused') expect(outcome.policy.length).toBeLessThanOrEqual(rule!.worstCaseLength)
        }),
        fcOptions(),
      ),
    )
  })

  it('P3 injectivity: distinct accepted subjects get distinct prefixes, neither a string-prefix of the other', async () => {
    const rule = compileOne(appUsers({ when: {} }))
    await timed('P3', () =>
      fc.assert(
        fc.property(fc.oneof(safeValue, hostileString), fc.oneof(safeValue, hostileString), (a, b) => {
          fc.pre(a !== b)
          const ga = renderOrRefuse(rule, callerFor({ sub: a, team: null, org: null }), '127.0.0.1')
          const gb = renderOrRefuse(rule, callerFor({ sub: b, team: null, org: null }), '127.0.0.1')
          if (ga === 'refused' || gb === 'refused') return
          expect(ga.oss.prefix).not.toBe(gb.oss.prefix)
          expect(ga.oss.prefix.startsWith(gb.oss.prefix)).toBe(false)
          expect(gb.oss.prefix.startsWith(ga.oss.prefix)).toBe(false)
        }),
        fcOptions(),
      ),
    )
  })

  it('P4 session name: for any rendered name, the RoleSessionName is 2-64 of [A-Za-z0-9.@_-]', async () => {
    const rule = compileOne(appUsers({ when: {}, sessionName: 'app ${claim.team}/${sub}' }))
    await timed('P4', () =>
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.string({ unit: 'grapheme', maxLength: 80 }),
          ),
          claimsArb,
          (raw, claims) => {
            expect(sanitizeSessionName(raw)).toMatch(/^[A-Za-z0-9.@_-]{2,64}$/)
            const grant = renderOrRefuse(rule, callerFor(claims), '127.0.0.1')
            if (grant !== 'refused') expect(grant.sessionName).toMatch(/^[A-Za-z0-9.@_-]{2,64}$/)
          },
        ),
        fcOptions(),
      ),
    )
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

  it('P5 narrowing monotonicity: whatever a narrowed policy allows, the rule allows too', async () => {
    const rules = [
      compileOne(appUsers({ when: {}, conditions: { sourceIp: 'request', secureTransport: true } })),
      compileOne(
        appUsers({
          when: {},
          oss: {
            bucket: undefined,
            accessPoint: { name: 'ap-01', alias: 'ap-01-ossalias', accountId: '1379186349531234' },
            access: 'ossbrowser',
          },
        }),
      ),
      compileOne(
        appUsers({
          when: {},
          oss: { access: undefined, actions: ['oss:GetObject', 'oss:PutObject', 'oss:ListObjects'] },
        }),
      ),
    ]
    const segment = fc.oneof(
      { weight: 8, arbitrary: safeValue },
      { weight: 1, arbitrary: fc.constantFrom('..', '.', '', '*', 'ü', '%2F') },
    )
    const narrowing = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.array(segment, { maxLength: 3 }), fc.boolean())
          .map(
            ([segments, folder]) =>
              `users/alice/${segments.join('/')}${folder && segments.length > 0 ? '/' : ''}`,
          ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'users/alicex/',
          'users/alice',
          'users/',
          'users/bob/x',
          'users/alice/../bob/',
          'users/alice//x',
        ),
      },
      { weight: 1, arbitrary: hostileString },
    )
    const access = fc.option(
      fc.constantFrom<AccessPreset>('read', 'upload-only', 'read-write', 'read-write-delete', 'ossbrowser'),
      {
        nil: undefined,
        freq: 2,
      },
    )
    const key = fc.oneof(
      fc.constantFrom(
        'users/alice/a',
        'users/alice/photos/a',
        'users/alice/photos/',
        'users/alicex/a',
        'users/bob/a',
      ),
      fc.constantFrom(
        'users/alice/../bob/a',
        'users/alice//a',
        'users/alice/ü',
        '',
        'users/',
        'users/alice/',
      ),
      fc.tuple(fc.constantFrom('users/alice/', 'users/alice/photos/'), hostileString).map(([p, s]) => p + s),
    )
    const actions = [...OBJECT_ACTIONS, ...LISTING_ACTIONS, 'oss:GetBucketInfo', 'oss:DeleteBucket']
    const alice = callerFor({ sub: 'alice', team: null, org: null })
    let narrowed = 0
    await timed('P5', () =>
      fc.assert(
        fc.property(
          fc.constantFrom(0, 1, 2),
          narrowing,
          access,
          fc.array(fc.tuple(fc.constantFrom(...actions), key, fc.boolean()), { minLength: 1, maxLength: 4 }),
          fc.ipV4(),
          (which, prefix, preset, probes, clientIp) => {
            const rule = rules[which]!
            const full = JSON.parse(
              renderGrant(rule, alice, { format: 'json' }, { clientIp }).policy,
            ) as PolicyDocument
            let grant: ReturnType<typeof renderGrant>
            try {
              grant = renderGrant(
                rule,
                alice,
                { format: 'json', prefix, ...(preset ? { access: preset } : {}) },
                { clientIp },
              )
            } catch (err) {
              if (err instanceof AppError && (err.code === 'access_denied' || err.code === 'invalid_request'))
                return
              throw err
            }
            narrowed++
            expect(grant.policy.length).toBeLessThanOrEqual(rule.worstCaseLength)
            const small = JSON.parse(grant.policy) as PolicyDocument
            const base =
              rule.accessPoint === null
                ? 'acs:oss:cn-hangzhou:1234567890123456:examplebucket'
                : 'acs:oss:cn-hangzhou:1379186349531234:accesspoint/ap-01'
            for (const [action, k, https] of probes) {
              const isObject = (OBJECT_ACTIONS as readonly string[]).includes(action)
              const resource = isObject ? `${base}${rule.accessPoint === null ? '/' : '/object/'}${k}` : base
              const context = {
                'acs:SourceIp': clientIp,
                'acs:SecureTransport': String(https),
                ...((LISTING_ACTIONS as readonly string[]).includes(action) ? { 'oss:Prefix': k } : {}),
              }
              const request = { action, resource, context }
              if (evaluatePolicy(small, request).decision === 'allow')
                expect(evaluatePolicy(full, request).decision).toBe('allow')
            }
          },
        ),
        fcOptions(),
      ),
    )
    expect(narrowed).toBeGreaterThan(RUNS / 10)
  })
})
