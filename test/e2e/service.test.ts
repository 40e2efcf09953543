// The service as a real process with a config file, the emulator as a real process, real Alibaba clients.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_ROLE_ARNS, DEV_ACCESS_KEY, PARTNER_EXTERNAL_ID } from '../../src/emulator/default-config.ts'
import { parseV4Authorization, verifyV4 } from '../../src/emulator/oss/signature-v4.ts'
import { CredentialModule } from '../fixtures/emulator-sdk.ts'
import { loopbackAgents, OSS } from '../fixtures/oss.ts'
import {
  type CliProcess,
  firstJsonLine,
  freePort,
  serveConfig,
  spawnCli,
  waitForIssuedLine,
} from '../fixtures/processes.ts'
import { appUsers, corpIssuer } from '../fixtures/rules.ts'
import { startTestIssuer, type TestIssuer } from '../fixtures/test-issuer.ts'

const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

let dir: string
let issuer: TestIssuer
let emulator: CliProcess
let service: CliProcess
let emulatorUrl: string
let serviceUrl: string

async function lastAssumeRole(): Promise<Record<string, string | null>> {
  const counters = (await (await fetch(`${emulatorUrl}/__counters`)).json()) as {
    last: Record<string, string | null>
  }
  return counters.last
}

async function credentials(query: string, claims: Record<string, unknown> = { sub: 'alice' }) {
  const token = await issuer.sign(claims)
  const res = await fetch(`${serviceUrl}/v1/credentials?${query}`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-e2e-'))
  issuer = await startTestIssuer()
  emulator = spawnCli(['emulator', '--port', '0'])
  emulatorUrl = String((await firstJsonLine(emulator))['sts'])
  const port = await freePort()
  const config = {
    server: { host: '127.0.0.1', port },
    sts: { endpoint: new URL(emulatorUrl).host, protocol: 'http', region: 'cn-hangzhou' },
    issuers: [corpIssuer(issuer)],
    rules: [
      {
        id: 'partner',
        issuer: 'corp',
        when: { partner: { equals: 'acme' } },
        roleArn: DEFAULT_ROLE_ARNS.partner,
        externalId: PARTNER_EXTERNAL_ID,
        sessionName: 'partner-${sub}',
        oss: {
          bucket: 'partnerbucket',
          region: 'cn-hangzhou',
          prefix: 'ingest/${sub}/',
          access: 'upload-only',
        },
        durationSeconds: { default: 900, max: 3600 },
      },
      appUsers({ when: {}, roleArn: DEFAULT_ROLE_ARNS.appUser }),
    ],
  }
  ;({ proc: service, url: serviceUrl } = await serveConfig(join(dir, 'config.yaml'), config))
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await emulator?.stop()
  await issuer?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('sts-vend serve against the STS emulator', () => {
  it('when alice asks for json, then the AssumeRole the emulator received carried the rendered policy, session name and duration', async () => {
    const { status, body } = await credentials('format=json')
    expect(status).toBe(200)
    expect(body['accessKeyId']).toMatch(/^STS\./)
    expect(body['expiration']).toMatch(EXPIRATION)
    const last = await lastAssumeRole()
    expect(last).toMatchObject({
      RoleArn: DEFAULT_ROLE_ARNS.appUser,
      RoleSessionName: 'app-alice',
      DurationSeconds: '3600',
      ExternalId: null,
      SourceIdentity: 'alice',
    })
    const policy = JSON.parse(String(last['Policy']))
    expect(JSON.stringify(policy)).toContain('acs:oss:*:*:examplebucket/users/alice/*')
    const line = await waitForIssuedLine(service, body['accessKeyId'])
    expect(line['policy_sha256']).toBe(createHash('sha256').update(String(last['Policy'])).digest('hex'))
    expect(line['source_identity']).toBe('alice')
  })

  it('when the service started with a RAM user key, then it logged that identity’s ARN once', () => {
    const identities = service.jsonLines().filter((l) => l['event'] === 'sts.identity')
    expect(identities).toEqual([
      expect.objectContaining({ arn: 'acs:ram::1000000000000001:user/sts-vend', identity_type: 'RAMUser' }),
    ])
  })

  it('when the rule is cross-account, then the emulator (which enforces the trust) received the ExternalId and issued', async () => {
    const { status, body } = await credentials('format=json', { sub: 'ci-1', partner: 'acme' })
    expect(status).toBe(200)
    expect(body).toMatchObject({ bucket: 'partnerbucket', access: 'upload-only', prefix: 'ingest/ci-1/' })
    expect(await lastAssumeRole()).toMatchObject({
      RoleArn: DEFAULT_ROLE_ARNS.partner,
      ExternalId: PARTNER_EXTERNAL_ID,
      RoleSessionName: 'partner-ci-1',
      DurationSeconds: '900',
    })
  })

  it('when json credentials go into ali-oss as the README shows (V4, virtual-host), then it signs requests with that key, secret and token', async () => {
    const { body } = await credentials('format=json', { sub: 'olivia' })
    const captured: { req: IncomingMessage; body: Buffer }[] = []
    const capture: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        captured.push({ req, body: Buffer.concat(chunks) })
        res.setHeader('ETag', '"0"')
        res.setHeader('x-oss-request-id', 'RID')
        res.end()
      })
    })
    await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r))
    try {
      const port = (capture.address() as AddressInfo).port
      // The README snippet, with the endpoint's port moved to the capture server (reached through the lookup override).
      const client = new OSS({
        region: `oss-${body['region']}`,
        endpoint: `http://${body['endpoint']}:${port}`,
        bucket: body['bucket'],
        authorizationV4: true,
        accessKeyId: body['accessKeyId'],
        accessKeySecret: body['accessKeySecret'],
        stsToken: body['securityToken'],
        refreshSTSToken: async () => ({
          accessKeyId: body['accessKeyId'],
          accessKeySecret: body['accessKeySecret'],
          stsToken: body['securityToken'],
        }),
        refreshSTSTokenInterval: 600_000,
        ...loopbackAgents(),
      })
      await client.put(`${body['prefix']}hello.txt`, Buffer.from('hello'))
      const { req } = captured[0]!
      expect(req.headers['host']).toBe(`examplebucket.oss-cn-hangzhou.aliyuncs.com:${port}`)
      expect(req.url).toBe('/users/olivia/hello.txt')
      expect(req.headers['x-oss-security-token']).toBe(body['securityToken'])
      const auth = parseV4Authorization(String(req.headers['authorization']))
      expect(auth).toMatchObject({ accessKeyId: body['accessKeyId'], region: 'cn-hangzhou' })
      // The emulator's own V4 verifier (an implementation independent of ali-oss's) accepts the signature.
      const input = {
        method: 'PUT',
        name: 'examplebucket',
        key: 'users/olivia/hello.txt',
        query: [],
        headers: req.headers,
        additionalHeaders: auth?.additionalHeaders ?? [],
      }
      const verified = (secret: string) =>
        auth !== null && verifyV4(input, auth, String(req.headers['x-oss-date']), secret, auth.signature)
      expect(verified(String(body['accessKeySecret']))).toBe(true)
      expect(verified('another-secret')).toBe(false)
    } finally {
      await new Promise<void>((r) => capture.close(() => r()))
    }
  })

  it('when @alicloud/credentials reads the credentials-uri format through a bearer-adding proxy, then it yields the issued credentials', async () => {
    const token = await issuer.sign({ sub: 'uri-user' })
    const proxy = createServer(async (_req, res) => {
      const upstream = await fetch(`${serviceUrl}/v1/credentials?format=credentials-uri`, {
        headers: { Authorization: `Bearer ${token}` },
      })
      res.statusCode = upstream.status
      res.setHeader('Content-Type', 'application/json')
      res.end(await upstream.text())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const uri = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`
      const credential = new CredentialModule.default(
        new CredentialModule.Config({ type: 'credentials_uri', credentialsURI: uri }),
      )
      const got = await credential.getCredential()
      expect(got.accessKeyId).toMatch(/^STS\./)
      expect(got.accessKeySecret).toBeTruthy()
      expect(got.securityToken).toBeTruthy()
      const last = await lastAssumeRole()
      expect(last['RoleSessionName']).toBe('app-uri-user')
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()))
    }
  })

  it('when format=ossbrowser, then the authorization code decodes to the fields the ossbrowser logon requires', async () => {
    const { status, body } = await credentials('format=ossbrowser', { sub: 'pat' })
    expect(status).toBe(200)
    const code = JSON.parse(Buffer.from(String(body['authorizationCode']), 'base64').toString('utf8'))
    for (const field of ['id', 'secret', 'stoken', 'privilege', 'expiration', 'osspath'])
      expect(code[field]).toBeTruthy()
    expect(code.id).toBe(body['accessKeyId'])
    expect(code.id.indexOf('STS.')).toBe(0)
    expect(code.osspath).toBe('oss://examplebucket/users/pat/')
    expect(code.region).toBe('oss-cn-hangzhou')
    expect(code.eptpl).toMatch(/^https?:\/\//)
    expect(new Date(code.expiration).getTime()).toBeGreaterThan(Date.now())
  })

  it('when format=appserver or aliyun-cli, then the bodies follow those contracts', async () => {
    const app = await credentials('format=appserver', { sub: 'mo' })
    expect(app.body['StatusCode']).toBe(200)
    for (const k of ['AccessKeyId', 'AccessKeySecret', 'SecurityToken'])
      expect(typeof app.body[k]).toBe('string')
    expect(app.body['Expiration']).toMatch(EXPIRATION)
    const cli = await credentials('format=aliyun-cli', { sub: 'mo' })
    expect(cli.body).toEqual({
      mode: 'StsToken',
      access_key_id: app.body['AccessKeyId'],
      access_key_secret: app.body['AccessKeySecret'],
      sts_token: app.body['SecurityToken'],
    })
  })

  it('when the service logged all of this, then its stdout holds no secret', async () => {
    const { body } = await credentials('format=json', { sub: 'last' })
    await waitForIssuedLine(service, body['accessKeyId']) // its audit line has arrived: the check below reads all of it
    const out = service.stdout()
    expect(out).not.toContain(String(body['accessKeySecret']))
    expect(out).not.toContain(String(body['securityToken']))
    expect(out).not.toContain(DEV_ACCESS_KEY.secret)
  })
})
