import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/logger.ts'
import { AUDIT_ADMIT_EVERY, createAudit, HOT_AUDIT_LINES } from '../../../src/services/audit.ts'
import { createRuleDecision } from '../../../src/services/issue-credentials.ts'
import { createIssueMemo } from '../../../src/services/issue-memo.ts'
import type { Issued, StsCredentials } from '../../../src/types.ts'
import { alice, appUsers, callerOf, compile } from '../../fixtures/rules.ts'

const { rules } = compile([appUsers()])

function credentialsFor(n: number): StsCredentials {
  return {
    accessKeyId: `STS.key${n}`,
    accessKeySecret: `secret-${n}-never-logged`,
    securityToken: `CAIS-token-${n}-never-logged`,
    expiration: new Date(Date.UTC(2030, 0, 1, 0, 0, n)),
    requestId: `REQ-${n}`,
  }
}

/** An audit writing into `raw`, and the line each request gives with its time and request id blanked. */
function capture() {
  const raw: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => raw.push(line) } })
  const fixedPart = (line: string) =>
    line.replace(/"time":"[^"]*"/, '"time":""').replace(/"request_id":"[^"]*"/, '"request_id":""')
  return { audit: createAudit(logger), raw, fixedPart }
}

function issuedFor(caller = alice(), credentials = credentialsFor(1)): Issued {
  const decide = createRuleDecision(rules, createIssueMemo())
  const grant = decide(caller, { format: 'json' }, { requestId: 'r', clientIp: '203.0.113.9' })
  return { grant, credentials, cache: 'hit', refreshAfter: new Date(0) }
}

describe('audit credentials.issued', () => {
  it('when one credential is served again and again, then every line is the same byte for byte, whether its fields are serialized anew, kept for the hot set or read from it', () => {
    const { audit, raw, fixedPart } = capture()
    const issued = issuedFor()
    for (let i = 0; i < 3 * AUDIT_ADMIT_EVERY; i++)
      audit.issued(alice(), issued, { requestId: `req-${i}`, clientIp: '203.0.113.9' })
    expect(raw).toHaveLength(3 * AUDIT_ADMIT_EVERY)
    expect(new Set(raw.map(fixedPart)).size).toBe(1)
    const line = JSON.parse(raw[0] ?? '{}') as Record<string, unknown>
    expect(Object.keys(line)).toEqual([
      'level',
      'time',
      'service',
      'event',
      'iss',
      'sub',
      'rule',
      'role_arn',
      'session_name',
      'policy_sha256',
      'duration_seconds',
      'expiration',
      'access_key_id',
      'sts_request_id',
      'source_identity',
      'request_id',
      'cache',
      'source',
      'client_ip',
      'msg',
    ])
    expect(line).toMatchObject({ access_key_id: 'STS.key1', sts_request_id: 'REQ-1', sub: 'alice' })
    expect(raw.join('')).not.toMatch(/never-logged/)
  })

  it('when more credentials than the hot set are served round robin, then each line still names its own credential and caller', () => {
    const { audit, raw } = capture()
    const served = Array.from({ length: HOT_AUDIT_LINES + 50 }, (_, n) => {
      const caller = callerOf({ sub: `user${n}`, groups: ['photo-app'] })
      return { caller, issued: issuedFor(caller, credentialsFor(n)) }
    })
    for (let round = 0; round < 2; round++)
      for (const { caller, issued } of served)
        audit.issued(caller, issued, { requestId: 'r', clientIp: '203.0.113.9' })
    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(2 * served.length)
    lines.forEach((line, i) => {
      const n = i % served.length
      expect(line).toMatchObject({
        sub: `user${n}`,
        access_key_id: `STS.key${n}`,
        sts_request_id: `REQ-${n}`,
      })
    })
  })
})
