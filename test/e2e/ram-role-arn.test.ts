// The @alicloud/credentials ram_role_arn provider (legacy RPC HMAC-SHA1, https only) against the emulator in TLS mode.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  type Emulator,
  PARTNER_EXTERNAL_ID,
  startEmulator,
} from '../../src/emulator/index.ts'
import { CHAIN_HOP_ARN, CHAIN_POLICY, chainingEmulatorConfig } from '../fixtures/chain-config.ts'
import type { RamRoleArnOutcome, RamRoleArnScenario } from '../fixtures/emulator-ram-role-arn.ts'

const run = promisify(execFile)
const child = fileURLToPath(new URL('../fixtures/emulator-ram-role-arn.ts', import.meta.url))
const policy = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: "acs:oss:*:*:examplebucket/a b!'()*/*" }],
})
const dev = { accessKeyId: DEV_ACCESS_KEY.id, accessKeySecret: DEV_ACCESS_KEY.secret }

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ config: chainingEmulatorConfig(), tls: true })
})
afterAll(async () => {
  const caPath = emulator.caPath
  await emulator.close()
  expect(caPath !== null && existsSync(caPath)).toBe(false)
})

async function provider(
  scenarios: RamRoleArnScenario[],
  trustCa = true,
): Promise<Map<string, RamRoleArnOutcome>> {
  const env: NodeJS.ProcessEnv = { ...process.env, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }
  if (trustCa) env['NODE_EXTRA_CA_CERTS'] = emulator.caPath ?? ''
  else delete env['NODE_EXTRA_CA_CERTS']
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', child, emulator.endpoint, JSON.stringify(scenarios)],
    { env, timeout: 30_000 },
  )
  const outcomes = JSON.parse(stdout) as RamRoleArnOutcome[]
  return new Map(outcomes.map((o) => [o.name, o]))
}

/** The Code of the STS error body the provider quotes in its message ("refresh session token failed: {…}"). */
const codeIn = (o: RamRoleArnOutcome | undefined) => {
  if (!o || o.ok) return o ? 'success' : 'missing'
  const json = /(\{.*\})$/s.exec(o.message)?.[1]
  return json ? String((JSON.parse(json) as { Code?: string }).Code) : o.message
}

describe('@alicloud/credentials ram_role_arn provider', () => {
  it('when the emulator serves TLS, then its URL is https and the certificate file is a PEM certificate', () => {
    expect(emulator.stsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(readFileSync(emulator.caPath ?? '', 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/)
  })

  it('when run against the emulator, then every case gets the answer real STS gives', async () => {
    const before = emulator.counters.snapshot().assumeRoleCalls
    const outcomes = await provider([
      {
        name: 'ok',
        ...dev,
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        roleSessionName: 'rra-alice',
        policy,
        durationSeconds: 900,
      },
      {
        name: 'cross-account',
        ...dev,
        roleArn: DEFAULT_ROLE_ARNS.partner,
        roleSessionName: 'rra-partner',
        externalId: PARTNER_EXTERNAL_ID,
      },
      { name: 'no-external-id', ...dev, roleArn: DEFAULT_ROLE_ARNS.partner, roleSessionName: 'rra-partner' },
      {
        name: 'wrong-external-id',
        ...dev,
        roleArn: DEFAULT_ROLE_ARNS.partner,
        roleSessionName: 'rra-partner',
        externalId: 'not-the-one',
      },
      {
        name: 'wrong-secret',
        accessKeyId: DEV_ACCESS_KEY.id,
        accessKeySecret: 'wrongSecret01',
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        roleSessionName: 'rra-alice',
      },
      {
        name: 'unknown-key',
        accessKeyId: 'LTAIunknownKey99',
        accessKeySecret: 'x',
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        roleSessionName: 'rra-alice',
      },
      {
        name: 'unknown-role',
        ...dev,
        roleArn: 'acs:ram::1000000000000001:role/gone',
        roleSessionName: 'rra-alice',
      },
      {
        name: 'too-long',
        ...dev,
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        roleSessionName: 'rra-alice',
        durationSeconds: 7200,
      },
      {
        name: 'hop',
        ...dev,
        roleArn: CHAIN_HOP_ARN,
        roleSessionName: 'rra-hop',
        policy: CHAIN_POLICY,
        durationSeconds: 900,
      },
      {
        name: 'chained',
        chainFrom: 'hop',
        roleArn: DEFAULT_ROLE_ARNS.partner,
        roleSessionName: 'rra-chain',
        externalId: PARTNER_EXTERNAL_ID,
      },
    ])
    const ok = outcomes.get('ok')
    expect(ok).toMatchObject({ ok: true, providerName: 'ram_role_arn/static_ak', tokenPrefix: 'CAIS' })
    expect(ok?.ok && emulator.sessions.get(ok.accessKeyId)?.policy).toBe(policy)
    expect(codeIn(outcomes.get('cross-account'))).toBe('success')
    expect(codeIn(outcomes.get('no-external-id'))).toBe('NoPermission')
    expect(codeIn(outcomes.get('wrong-external-id'))).toBe('NoPermission')
    // The provider compares our "server string to sign" with its own to tell a wrong secret apart.
    expect(outcomes.get('wrong-secret')).toMatchObject({
      ok: false,
      message: 'the access key secret is invalid',
    })
    expect(codeIn(outcomes.get('unknown-key'))).toBe('InvalidAccessKeyId.NotFound')
    expect(codeIn(outcomes.get('unknown-role'))).toBe('EntityNotExist.Role')
    expect(codeIn(outcomes.get('too-long'))).toBe('InvalidParameter.DurationSeconds')
    expect(outcomes.get('chained')).toMatchObject({ ok: true, providerName: 'ram_role_arn/static_sts' })
    expect(emulator.counters.snapshot().assumeRoleCalls - before).toBe(10)
  })

  it('when the child does not trust the emulator certificate, then TLS refuses the connection', async () => {
    const outcomes = await provider(
      [{ name: 'untrusted', ...dev, roleArn: DEFAULT_ROLE_ARNS.appUser, roleSessionName: 'rra-alice' }],
      false,
    )
    expect(outcomes.get('untrusted')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/self[- ]signed/i),
    })
  })
})
