// The real @alicloud/credentials against a real `sts-vend agent` process: refresh on a new token file and after refreshAfter.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type CredentialModuleType from '@alicloud/credentials'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type CredentialsStub, type StubTimes, startCredentialsStub } from '../fixtures/credentials-stub.ts'

// CommonJS package: require() gives the same module.exports under Node and vitest.
const require = createRequire(import.meta.url)
const CredentialModule = require('@alicloud/credentials') as typeof CredentialModuleType

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const dir = mkdtempSync(join(tmpdir(), 'sts-vend-agent-e2e-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Setup {
  stub: CredentialsStub
  agentUrl: string
  tokenFile: string
  child: ChildProcess
}

const running: Setup[] = []
afterEach(async () => {
  for (const setup of running.splice(0)) {
    if (setup.child.exitCode === null) {
      const exited = new Promise((resolve) => setup.child.once('exit', resolve))
      setup.child.kill('SIGTERM')
      await exited
    }
    await setup.stub.close()
  }
})

/** A credentials stub with `times`, a token file holding `jwt-one`, and the agent as a real process on both. */
async function setUp(times: StubTimes, extraArgs: string[] = []): Promise<Setup> {
  const stub = await startCredentialsStub({ times })
  stub.accept('jwt-one', 'jwt-two')
  const tokenFile = join(dir, `token-${running.length}-${Date.now()}`)
  writeFileSync(tokenFile, 'jwt-one\n')
  const child = spawn(
    process.execPath,
    [join(root, 'bin/sts-vend.js'), 'agent', '--server', stub.url, '--token-file', tokenFile, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const setup: Setup = { stub, tokenFile, child, agentUrl: '' }
  running.push(setup)
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  await until(() => stdout.includes('\n') || child.exitCode !== null, 15_000)
  setup.agentUrl = (JSON.parse(stdout) as { agent: string }).agent
  return setup
}

/** Polls `check` every 100 ms for at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function uriClient(agentUrl: string) {
  return new CredentialModule.default(
    new CredentialModule.Config({ type: 'credentials_uri', credentialsURI: `${agentUrl}/credentials` }),
  )
}

// The SDK keeps credentials until Expiration - 15 min; with 10 min of life it asks the agent on every call,
// so what it returns shows what the agent serves, and the stub's hit count shows the agent's own caching.
const TEN_MINUTES = 600

describe('sts-vend agent with the real @alicloud/credentials (credentials_uri)', () => {
  it('when the token file changes, then the agent fetches with the new token and the SDK gets the new credentials', async () => {
    const { stub, agentUrl, tokenFile } = await setUp({
      lifetimeSeconds: TEN_MINUTES,
      refreshAfterSeconds: 300,
    })
    const sdk = uriClient(agentUrl)

    const first = await sdk.getCredential()
    expect(first).toMatchObject({
      accessKeyId: 'STS.stub-1',
      accessKeySecret: 'stub-secret-1',
      securityToken: 'stub-security-token-1',
    })
    for (let i = 0; i < 3; i++) expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits).toHaveLength(1)

    writeFileSync(tokenFile, 'jwt-two\n')
    const second = await sdk.getCredential()
    expect(second).toMatchObject({ accessKeyId: 'STS.stub-2', securityToken: 'stub-security-token-2' })
    expect(stub.hits.map((h) => h.bearer)).toEqual(['jwt-one', 'jwt-two'])
    expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-2')
    expect(stub.hits).toHaveLength(2)
  })

  it('when refreshAfter passes, then the agent fetches again and the SDK gets the new credentials', async () => {
    // 4 s: the two reads below must both fall before refreshAfter, even on a loaded runner.
    const { stub, agentUrl } = await setUp({ lifetimeSeconds: TEN_MINUTES, refreshAfterSeconds: 4 })
    const sdk = uriClient(agentUrl)
    const started = Date.now()

    expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-1')
    expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits).toHaveLength(1)

    await until(async () => (await sdk.getCredential()).accessKeyId === 'STS.stub-2', 10_000)
    // refreshAfter is whole seconds (YYYY-MM-DDTHH:mm:ssZ), so "4 s ahead" is 3-4 s after the first fetch.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
    expect(stub.hits).toHaveLength(2)
    expect(stub.hits.map((h) => h.bearer)).toEqual(['jwt-one', 'jwt-one'])
  })

  it('when sts-vend goes down after a fetch, then the SDK keeps getting the cached credentials', async () => {
    const { stub, agentUrl } = await setUp({ lifetimeSeconds: TEN_MINUTES, refreshAfterSeconds: 1 })
    const sdk = uriClient(agentUrl)
    expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-1')
    stub.fault({ status: 503 })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect((await sdk.getCredential()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits.length).toBeGreaterThanOrEqual(2)
  })
})

describe('sts-vend agent with the real ECS RAM role provider', () => {
  // The provider always asks http://100.100.100.200 and has no option for another host; in a pod or VM that
  // address would be routed to the agent. Here its request function is wrapped to send the very same
  // requests to the agent, so the provider's real IMDSv2 flow, role discovery and `Code` check run.
  it.each([
    ['with IMDSv1 fallback allowed', false],
    ['with IMDSv1 disabled (token required)', true],
  ])('when it discovers the role and fetches %s, then it gets the credentials', async (_n, disableIMDSv1) => {
    const { agentUrl, stub } = await setUp({ lifetimeSeconds: TEN_MINUTES, refreshAfterSeconds: 300 }, [
      '--role-name',
      'app-role',
    ])
    const saved = process.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED']
    delete process.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED']
    try {
      const provider = CredentialModule.ECSRAMRoleCredentialsProvider.builder()
        .withDisableIMDSv1(disableIMDSv1)
        .withReadTimeout(5000)
        .withConnectTimeout(5000)
        .build()
      const seen: string[] = []
      type Req = { method: string; host: string; path: string; headers: Record<string, string> }
      const target = provider as unknown as { doRequest: (req: Req) => Promise<unknown> }
      const original = target.doRequest
      target.doRequest = (req: Req) => {
        seen.push(
          `${req.method} ${req.host}${req.path} ${req.headers['x-aliyun-ecs-metadata-token'] ? 'token' : '-'}`,
        )
        req.host = new URL(agentUrl).host
        return original(req)
      }
      const credentials = await provider.getCredentials()
      expect(credentials).toMatchObject({
        accessKeyId: 'STS.stub-1',
        accessKeySecret: 'stub-secret-1',
        securityToken: 'stub-security-token-1',
        providerName: 'ecs_ram_role',
      })
      expect(seen).toEqual([
        'PUT 100.100.100.200/latest/api/token -',
        'GET 100.100.100.200/latest/meta-data/ram/security-credentials/ token',
        'PUT 100.100.100.200/latest/api/token -',
        'GET 100.100.100.200/latest/meta-data/ram/security-credentials/app-role token',
      ])
      expect(stub.hits).toHaveLength(1)
    } finally {
      if (saved !== undefined) process.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED'] = saved
    }
  })
})
