// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { describe, expect, it } from 'vitest'
import { RateLimited } from '../../../src/errors.ts'
import { createIssueCredentials, type SubjectBudget } from '../../../src/services/issue-credentials.ts'
import type { Caller, CredentialAsk, Issued } from '../../../src/types.ts'
import { createRecordingSts } from '../../fixtures/fake-sts.ts'
import { alice, appUsers, callerOf, compile } from '../../fixtures/rules.ts'

const { rules } = compile([appUsers()])

function world(spent = false) {
  const client = createRecordingSts()
  const audited: Issued[] = []
  const order: string[] = []
  const issue = createIssueCredentials({
    rules,
    sts: {
      async issue(_key, input) {
        order.push('sts')
        return { credentials: await client.assumeRole(input), cache: 'miss' }
      },
    },
    audit: {
      issued: (_caller, issued) => {
        order.push('audit')
        audited.push(issued)
      },
      denied: () => {},
      explained: () => {},
    },
    minRemainingSeconds: 300,
  })
  const budget: SubjectBudget = {
    assertWithin: () => {
      order.push('budget')
      if (spent) throw new RateLimited(7, { reason: 'per-subject limit' })
    },
  }
  const run = (caller: Caller, ask: CredentialAsk) =>
    issue.issueCredentials(caller, ask, { requestId: 'r1', clientIp: '203.0.113.9', budget })
  return { client, audited, order, run }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: { code?: string }) => err.code,
  )
}

describe('issueCredentials', () => {
  it('when alice asks, then the story runs in order: budget, one AssumeRole with the rendered policy, one audit line', async () => {
    const w = world()
    const issued = await w.run(alice(), { format: 'json' })
    expect(w.order).toEqual(['budget', 'sts', 'audit'])
    expect(w.client.calls).toHaveLength(1)
    expect(w.client.calls[0]).toMatchObject({
      roleSessionName: issued.grant.sessionName,
      policy: issued.grant.policy,
    })
    expect(issued.grant.oss.prefix).toBe('users/alice/')
    expect(issued.refreshAfter.getTime()).toBe(issued.credentials.expiration.getTime() - 300_000)
    expect(w.audited).toEqual([issued])
  })

  it('when the ask is malformed and the caller also matches no rule, then it is 400 before 403, with no budget spent', async () => {
    const w = world(true)
    const nobody = callerOf({ sub: 'mallory', groups: [] })
    expect(await codeOf(w.run(nobody, { format: 'json', durationSeconds: 12 }))).toBe('invalid_request')
    expect(w.order).toEqual([])
  })

  it('when no rule matches and the budget is spent, then it is 403 before 429, and STS is never called', async () => {
    const w = world(true)
    expect(await codeOf(w.run(callerOf({ sub: 'mallory', groups: [] }), { format: 'json' }))).toBe(
      'access_denied',
    )
    expect(await codeOf(w.run(alice(), { format: 'json' }))).toBe('rate_limited')
    expect(w.order).toEqual(['budget'])
    expect(w.client.calls).toEqual([])
    expect(w.audited).toEqual([])
  })

  it('when the same caller asks twice plainly, then the grant is rendered once and reused', async () => {
    const w = world()
    const caller = alice()
    const first = await w.run(caller, { format: 'json' })
    const second = await w.run(caller, { format: 'json' })
    expect(second.grant).toBe(first.grant)
    expect(Object.isFrozen(first.grant)).toBe(true)
  })
})
