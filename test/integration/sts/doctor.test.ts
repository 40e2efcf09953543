// runDoctor in-process with the real SDK against the emulator: each problem code, the template note, the exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT } from '../../../src/cli.ts'
import { runDoctor } from '../../../src/commands/doctor.ts'
import {
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  type Emulator,
  PARTNER_EXTERNAL_ID,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { createAlibabaStsClient } from '../../../src/sts/index.ts'
import { chainingEmulatorConfig } from '../../fixtures/chain-config.ts'
import { captureIo } from '../../fixtures/cli-io.ts'
import { staticCredential } from '../../fixtures/emulator-sdk.ts'
import { startTestIssuer, type TestIssuer } from '../../fixtures/test-issuer.ts'
import { baselineConfig } from '../http/harness.ts'

let emulator: Emulator
let issuer: TestIssuer
beforeAll(async () => {
  emulator = await startEmulator({ config: chainingEmulatorConfig() })
  issuer = await startTestIssuer()
})
afterAll(async () => {
  await emulator.close()
  await issuer.close()
})

const rule = (id: string, roleArn: string, externalId: string | null) => ({
  id,
  issuer: 'corp',
  roleArn,
  externalId,
  oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'in/${sub}/', access: 'read' },
})

async function doctor(rules: Record<string, unknown>[]) {
  const config = baselineConfig(issuer, (raw) => {
    raw['sts'] = { endpoint: emulator.endpoint, protocol: 'http', region: 'cn-hangzhou' }
    raw['rules'] = rules
  })
  const client = createAlibabaStsClient({
    sts: config.sts,
    logger: createCapturingLogger('info').logger,
    credential: staticCredential({ accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }),
  })
  const io = captureIo()
  const code = await runDoctor(config, io, client)
  return {
    code,
    out: io.stdout(),
    problems: io
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('PROBLEM')),
  }
}

describe('sts-vend doctor checks', () => {
  it('when every rule is set up right, then each check is ok and the exit code is 0', async () => {
    const { code, out, problems } = await doctor([
      rule('app', DEFAULT_ROLE_ARNS.appUser, null),
      rule('partner', DEFAULT_ROLE_ARNS.partner, PARTNER_EXTERNAL_ID),
    ])
    expect(problems).toEqual([])
    expect(out).toContain(`ok rule app: ${DEFAULT_ROLE_ARNS.appUser} can be assumed.`)
    expect(out).toContain(`ok rule partner: ${DEFAULT_ROLE_ARNS.partner} can be assumed with its ExternalId.`)
    expect(out).toContain('ok rule partner: a wrong ExternalId is refused.')
    expect(code).toBe(EXIT.ok)
  })

  it('when a rule names a missing role, a wrong ExternalId, or a lax trust, then each is one PROBLEM line with a fix', async () => {
    const { code, problems } = await doctor([
      rule('gone', `acs:ram::${DEV_ACCOUNT_ID}:role/gone`, null),
      rule('wrong-id', DEFAULT_ROLE_ARNS.partner, 'not-the-partner-id'),
      rule('lax', `acs:ram::${DEV_ACCOUNT_ID}:role/chain-hop`, 'some-external-id'),
    ])
    expect(problems).toEqual([
      expect.stringMatching(/^PROBLEM ROLE_NOT_FOUND rule gone: .* Fix: create the role/),
      expect.stringMatching(
        /^PROBLEM ROLE_NOT_ASSUMABLE rule wrong-id: .*\(NoPermission\)\. Fix: .*sts:ExternalId/,
      ),
      expect.stringMatching(/^PROBLEM TRUST_NOT_ENFORCING_EXTERNAL_ID rule lax: /),
    ])
    expect(code).toBe(EXIT.invalid)
  })

  it('when a rule’s ExternalId is a template, then assuming with it is noted as not checkable and a wrong one is still probed', async () => {
    const { code, out } = await doctor([rule('tpl', DEFAULT_ROLE_ARNS.partner, 'ext-${claim.partner}')])
    expect(out).toContain('note rule tpl: its ExternalId is a template')
    expect(out).toContain('ok rule tpl: a wrong ExternalId is refused.')
    expect(code).toBe(EXIT.ok)
  })
})
