// Every served credential lands in the issued-credential index, hit or miss, without a write per cache hit.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here.
import { describe, expect, it } from 'vitest'
import { compileRules, loadConfig } from '../../../src/config/index.ts'
import { createIssueCredentials } from '../../../src/services/issue-credentials.ts'
import type { IssuedEntry, IssuedIndex } from '../../../src/services/issued-index.ts'
import type { Caller, StsCredentials } from '../../../src/types.ts'

const rules = compileRules(
  loadConfig({
    issuers: [
      {
        id: 'corp',
        issuer: 'https://id.example.com/',
        audiences: ['a'],
        jwksUri: 'https://id.example.com/j',
        algorithms: ['RS256'],
      },
    ],
    rules: [
      {
        id: 'app-users',
        issuer: 'corp',
        roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
        oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'users/${sub}/', access: 'read' },
      },
    ],
  }),
)

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
const caller = (subject: string): Caller =>
  Object.freeze({ issuerId: 'corp', issuer: 'https://id.example.com/', subject, claims: {} })

describe('createIssueCredentials with an issued-credential index', () => {
  it('when one caller is served the same cached credentials 200 times, then the index holds its entry, written once and touched every 64th hit', async () => {
    const credentials: StsCredentials = {
      accessKeyId: 'STS.one',
      accessKeySecret: 's',
      securityToken: 't',
      expiration: new Date(Date.now() + 3600_000),
      requestId: 'R',
    }
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
      issuer: 'https://id.example.com/',
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
