// Alibaba workloads as callers, end to end (issue 21): the emulator, the service and `sts-vend login-alibaba` as
// real processes; the partner's RAM user signs with the real @alicloud/credentials chain and the SDK signer.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_ROLE_ARNS,
  PARTNER_ACCESS_KEY,
  PARTNER_EXTERNAL_ID,
  PARTNER_ROOT_ACCESS_KEY,
} from '../../src/emulator/default-config.ts'
import { CredentialModule } from '../fixtures/emulator-sdk.ts'
import {
  type CliProcess,
  firstJsonLine,
  freePort,
  serveConfig,
  spawnCli,
  waitForIssuedLine,
} from '../fixtures/processes.ts'

const AUDIENCE = 'sts-vend.e2e.example'
const PARTNER = '1000000000000002'
let dir: string
let emulator: CliProcess
let service: CliProcess
let emulatorUrl: string
let serviceUrl: string

const assumeRoleCalls = async () =>
  ((await (await fetch(`${emulatorUrl}/__counters`)).json()) as { assumeRoleCalls: number }).assumeRoleCalls
const lastAssumeRole = async () =>
  ((await (await fetch(`${emulatorUrl}/__counters`)).json()) as { last: Record<string, string | null> }).last

/** Runs `sts-vend login-alibaba` as its own process with `key` in the environment; returns its one line. */
async function login(key: { id: string; secret: string }, audience = AUDIENCE): Promise<string> {
  const proc = spawnCli(['login-alibaba', '--audience', audience, '--endpoint', emulatorUrl], {
    ALIBABA_CLOUD_ACCESS_KEY_ID: key.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: key.secret,
  })
  const code = await proc.exited
  expect(code, proc.stderr()).toBe(0)
  const lines = proc
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
  expect(lines).toHaveLength(1)
  return lines[0] ?? ''
}

async function credentials(authorization: string) {
  const res = await fetch(`${serviceUrl}/v1/credentials?format=json`, { headers: { authorization } })
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    challenge: res.headers.get('www-authenticate'),
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-alibaba-'))
  emulator = spawnCli(['emulator', '--port', '0'])
  emulatorUrl = String((await firstJsonLine(emulator))['sts'])
  const port = await freePort()
  const endpoint = new URL(emulatorUrl).host
  const config = {
    server: { host: '127.0.0.1', port },
    sts: { endpoint, protocol: 'http', region: 'cn-hangzhou' },
    issuers: [
      {
        id: 'alicloud',
        type: 'alibaba-identity',
        audience: AUDIENCE,
        accounts: [PARTNER],
        stsEndpoint: endpoint,
      },
    ],
    rules: [
      {
        id: 'partner',
        issuer: 'alicloud',
        when: { 'alibaba.accountId': { equals: PARTNER }, 'alibaba.identityType': { equals: 'RAMUser' } },
        roleArn: DEFAULT_ROLE_ARNS.partner,
        externalId: PARTNER_EXTERNAL_ID,
        sessionName: 'partner-${alibaba.userName}',
        oss: {
          bucket: 'partnerbucket',
          region: 'cn-hangzhou',
          prefix: 'ingest/${alibaba.userName}/',
          access: 'upload-only',
        },
        durationSeconds: { default: 900, max: 3600 },
      },
    ],
  }
  ;({ proc: service, url: serviceUrl } = await serveConfig(join(dir, 'config.yaml'), config))
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await emulator?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('sts-vend login-alibaba against sts-vend serve and the STS emulator', () => {
  it('when the partner RAM user logs in, then it gets partner credentials with session name and prefix from its identity', async () => {
    const header = await login(PARTNER_ACCESS_KEY)
    expect(header).toMatch(/^AlibabaIdentity [A-Za-z0-9_-]+$/)
    expect(header).not.toContain(PARTNER_ACCESS_KEY.secret)
    const { status, body } = await credentials(header)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      bucket: 'partnerbucket',
      prefix: 'ingest/partner-admin/',
      access: 'upload-only',
    })
    expect(await lastAssumeRole()).toMatchObject({
      RoleArn: DEFAULT_ROLE_ARNS.partner,
      RoleSessionName: 'partner-partner-admin',
      ExternalId: PARTNER_EXTERNAL_ID,
    })
    // The answer's audit line has arrived (it follows the answer through a pipe): the check reads all of it.
    await waitForIssuedLine(service, body['accessKeyId'])
    const logs = service.stdout() + service.stderr()
    expect(logs).not.toContain(header.slice('AlibabaIdentity '.length, 'AlibabaIdentity '.length + 200))
  })

  it('when the same signed header is replayed, then it is 401 with the Bearer challenge and no AssumeRole', async () => {
    const header = await login(PARTNER_ACCESS_KEY)
    expect((await credentials(header)).status).toBe(200)
    const before = await assumeRoleCalls()
    const replay = await credentials(header)
    expect(replay.status).toBe(401)
    expect(replay.body['error']).toBe('invalid_token')
    expect(replay.challenge).toMatch(/^Bearer /)
    expect(await assumeRoleCalls()).toBe(before)
  })

  it('when the header was minted for another audience, then it is 401 and no AssumeRole', async () => {
    const before = await assumeRoleCalls()
    const { status } = await credentials(await login(PARTNER_ACCESS_KEY, 'another-service.example'))
    expect(status).toBe(401)
    expect(await assumeRoleCalls()).toBe(before)
  })

  it('when a root account key signs, then it is 401 and no AssumeRole', async () => {
    const before = await assumeRoleCalls()
    const { status, body } = await credentials(await login(PARTNER_ROOT_ACCESS_KEY))
    expect(status).toBe(401)
    expect(body['error']).toBe('invalid_token')
    expect(await assumeRoleCalls()).toBe(before)
  })

  it('when the agent runs with --alibaba-identity, then an SDK reading its credentials URI gets partner credentials, each fetch a fresh login', async () => {
    const agent = spawnCli(
      [
        'agent',
        '--server',
        serviceUrl,
        '--alibaba-identity',
        '--audience',
        AUDIENCE,
        '--endpoint',
        emulatorUrl,
      ],
      {
        ALIBABA_CLOUD_ACCESS_KEY_ID: PARTNER_ACCESS_KEY.id,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: PARTNER_ACCESS_KEY.secret,
      },
    )
    try {
      const agentUrl = String((await firstJsonLine(agent))['agent'])
      const sdk = new CredentialModule.default(
        new CredentialModule.Config({ type: 'credentials_uri', credentialsURI: `${agentUrl}/credentials` }),
      )
      const credential = await sdk.getCredential()
      expect(credential.accessKeyId).toMatch(/^STS\./)
      expect(credential.securityToken).toBeTruthy()
      // The service may answer from its cache (same caller, same rule as above): the role session is the partner's.
      // Its logs are written asynchronously: wait (bounded) for the refresh line.
      for (let i = 0; i < 50 && !agent.stderr().includes('agent.refreshed'); i++)
        await new Promise((r) => setTimeout(r, 100))
      expect(agent.stderr()).toContain('agent.refreshed')
      expect(await lastAssumeRole()).toMatchObject({ RoleSessionName: 'partner-partner-admin' })
      expect(agent.stderr()).not.toContain(PARTNER_ACCESS_KEY.secret)
    } finally {
      await agent.stop()
    }
  })
})
