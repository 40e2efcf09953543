// Every served credential lands in the issued-credential index, hit or miss, without a write per cache hit.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createIssueCredentials } from '../../../src/services/issue-credentials.ts'
import { packedPolicyOf } from '../../../src/services/issue-memo.ts'
import {
  createMemoryIssuedIndex,
  type IssuedEntry,
  type IssuedIndex,
} from '../../../src/services/issued-index.ts'
import type { PackedPolicy } from '../../../src/services/policy-pack.ts'
import type { Caller, StsCredentials } from '../../../src/types.ts'
import { bareAppUsers, CORP_ISS, compile } from '../../fixtures/rules.ts'

const { rules } = compile([
  bareAppUsers({ roleArn: 'acs:ram::1000000000000001:role/oss-app-user', oss: { access: 'read' } }),
])

function countingIndex(): IssuedIndex & { writes: IssuedEntry[] } {
  const writes: IssuedEntry[] = []
  return {
    writes,
    async record(entry) {
      writes.push(entry)
    },
    async find(id) {
      return writes.findLast((e) => e.accessKeyId === id) ?? null
    },
  }
}

const audit = { issued() {}, denied() {}, explained() {} }
const facts = { requestId: 'r', clientIp: '127.0.0.1' }
/** Credentials STS issued an hour ahead (secret `s`, token `t`). */
const issued = (accessKeyId: string): StsCredentials => ({
  accessKeyId,
  accessKeySecret: 's',
  securityToken: 't',
  expiration: new Date(Date.now() + 3600_000),
  requestId: 'R',
})
const caller = (subject: string): Caller =>
  Object.freeze({ issuerId: 'corp', issuer: CORP_ISS, subject, claims: {} })

describe('createIssueCredentials with an issued-credential index', () => {
  it('when one caller is served the same cached credentials 200 times, then the index holds its entry, written once and touched every 64th hit', async () => {
    const credentials = issued('STS.one')
    const index = countingIndex()
    const sts = { issue: async () => ({ credentials, cache: 'hit' as const }) }
    const service = createIssueCredentials({ rules, sts, audit, minRemainingSeconds: 300, index })
    const alice = caller('alice')
    const budget = { assertWithin: () => {} }
    const grant = service.decide(alice, { format: 'json' }, facts)
    for (let i = 0; i < 200; i++)
      await service.issueCredentials(alice, { format: 'json' }, { ...facts, budget })
    expect(index.writes.length).toBe(1 + Math.floor(199 / 64))
    expect(await index.find('STS.one')).toMatchObject({
      issuer: CORP_ISS,
      subject: 'alice',
      rule: 'app-users',
      prefix: 'users/alice/',
      access: 'read',
      policySha256: grant.policySha256,
      target: {
        bucket: 'examplebucket',
        accessPoint: null,
        region: 'cn-hangzhou',
        account: '1000000000000001',
      },
    })
    expect(JSON.stringify(index.writes)).not.toContain('"s"')
  })

  it('when the memory index records a memoized grant, then it keeps the grant’s packed Policy and answers its exact text', async () => {
    const credentials = issued('STS.packed')
    const index = createMemoryIssuedIndex({ maxEntries: 10 })
    const recorded: (PackedPolicy | undefined)[] = []
    const spy: IssuedIndex = {
      record: (entry, packed) => {
        recorded.push(packed)
        return index.record(entry, packed)
      },
      find: (id) => index.find(id),
    }
    const sts = { issue: async () => ({ credentials, cache: 'miss' as const }) }
    const service = createIssueCredentials({ rules, sts, audit, minRemainingSeconds: 300, index: spy })
    const bob = caller('bob')
    await service.issueCredentials(bob, { format: 'json' }, { ...facts, budget: { assertWithin: () => {} } })
    const grant = service.decide(bob, { format: 'json' }, facts)
    expect(recorded).toHaveLength(1)
    expect(recorded[0]).toEqual(packedPolicyOf(grant))
    expect(recorded[0]?.bytes.length).toBeLessThan(grant.policy.length / 2)
    const found = await index.find('STS.packed')
    expect(found?.policy).toBe(grant.policy)
    expect(found?.policySha256).toBe(createHash('sha256').update(grant.policy).digest('hex'))
    expect(grant.policySha256).toBe(found?.policySha256)
    expect(grant.policy).toContain('users/bob/')
  })

  it('when another caller is served, then its own entry is written at once', async () => {
    let n = 0
    const sts = {
      issue: async () => ({
        credentials: {
          accessKeyId: `STS.${++n}`,
          accessKeySecret: 's',
          securityToken: 't',
          expiration: new Date(Date.now() + 3600_000),
          requestId: 'R',
        },
        cache: 'miss' as const,
      }),
    }
    const index = countingIndex()
    const service = createIssueCredentials({ rules, sts, audit, minRemainingSeconds: 300, index })
    for (const sub of ['alice', 'bob']) {
      const who = caller(sub)
      await service.issueCredentials(
        who,
        { format: 'json' },
        { ...facts, budget: { assertWithin: () => {} } },
      )
    }
    expect(index.writes.map((e) => [e.accessKeyId, e.subject])).toEqual([
      ['STS.1', 'alice'],
      ['STS.2', 'bob'],
    ])
  })
})
