// The denial doctor on a stored entry: the layer, the nearest allowed prefix or action, EC and Code handling.
import { describe, expect, it } from 'vitest'
import { createExplainDenial, readQuestion } from '../../../src/services/explain-denial.ts'
import { createMemoryIssuedIndex } from '../../../src/services/issued-index.ts'
import type { Caller } from '../../../src/types.ts'

const NOW = new Date('2026-12-04T10:00:00Z')
const alice: Caller = { issuerId: 'corp', issuer: 'https://id.example.test/', subject: 'alice', claims: {} }
const policy = {
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'oss:GetObject',
      Resource: 'acs:oss:*:*:examplebucket/users/alice/*',
      Condition: { IpAddress: { 'acs:SourceIp': '203.0.113.7/32' }, Bool: { 'acs:SecureTransport': 'true' } },
    },
  ],
}

async function doctor() {
  const index = createMemoryIssuedIndex({ maxEntries: 10, now: () => NOW })
  await index.record({
    accessKeyId: 'STS.a',
    issuer: alice.issuer,
    subject: 'alice',
    rule: 'readers',
    target: {
      bucket: 'examplebucket',
      accessPoint: null,
      region: 'cn-hangzhou',
      account: '1000000000000001',
    },
    prefix: 'users/alice/',
    access: 'custom',
    policy: JSON.stringify(policy),
    policySha256: 'x',
    expiration: new Date(NOW.getTime() + 3600_000),
  })
  return createExplainDenial({ index, now: () => NOW })
}

describe('explain-denial', () => {
  it('when the grant allows it only from one address over HTTPS, then the layer is outside-session-policy and both conditions are named', async () => {
    const answer = await (await doctor())(
      alice,
      readQuestion({ accessKeyId: 'STS.a', action: 'oss:GetObject', key: 'users/alice/a' }),
    )
    expect(answer.layer).toBe('outside-session-policy')
    expect(answer.reason).toContain('only from 203.0.113.7/32 (SourceIp)')
    expect(answer.reason).toContain('only over HTTPS')
    expect(answer.fix).toMatch(
      /^send the request only from 203\.0\.113\.7\/32 \(SourceIp\) and only over HTTPS/,
    )
  })

  it('when the bucket is not the grant’s, then session-policy names the bucket the grant covers', async () => {
    const answer = await (await doctor())(
      alice,
      readQuestion({
        accessKeyId: 'STS.a',
        action: 'oss:GetObject',
        bucket: 'otherbucket',
        key: 'users/alice/a',
      }),
    )
    expect(answer).toMatchObject({ layer: 'session-policy' })
    expect(answer.reason).toContain('bucket examplebucket only, not otherbucket')
  })

  it('when the error carries an unknown or inherited-looking EC and Code, then they are reported as unknown, not crashed on', async () => {
    const xml = '<Error><Code>constructor</Code><EC>toString</EC><RequestId>R1</RequestId></Error>'
    const answer = await (await doctor())(
      alice,
      readQuestion({ error: xml, accessKeyId: 'STS.a', action: 'oss:GetObject', key: 'users/alice/a' }),
    )
    expect(answer.layer).toBe('outside-session-policy')
    expect(answer.reason).toContain('EC toString: not a code sts-vend knows')
  })

  it('when the error is a signature failure, then the layer is outside-session-policy even for an action the grant lacks', async () => {
    const xml = '<Error><Code>SignatureDoesNotMatch</Code></Error>'
    const answer = await (await doctor())(
      alice,
      readQuestion({ error: xml, accessKeyId: 'STS.a', action: 'oss:PutObject', key: 'users/alice/a' }),
    )
    expect(answer.layer).toBe('outside-session-policy')
    expect(answer.reason).toContain('SignatureDoesNotMatch')
    expect(answer.reason).toContain('before evaluating any policy')
    expect(answer.reason).not.toContain('allows oss:PutObject')
  })
})
