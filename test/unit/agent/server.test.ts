// The agent's HTTP surface: credentials-URI and ECS metadata shapes, IMDSv2 token, 404/405/403/503, option refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AgentOptionError } from '../../../src/agent/errors.ts'
import { type RunningAgent, startAgent } from '../../../src/agent/server.ts'
import { formatExpiration } from '../../../src/formats/time.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type CredentialsStub, startCredentialsStub } from '../../fixtures/credentials-stub.ts'
import { poseAsPeer, rawRequest } from './raw-request.ts'

const UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const ROLES = '/latest/meta-data/ram/security-credentials/'

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-agent-server-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tokenFile = join(dir, 'token')

let stub: CredentialsStub
let agent: RunningAgent
let capture: ReturnType<typeof createCapturingLogger>

beforeEach(async () => {
  writeFileSync(tokenFile, 'jwt-one')
  stub = await startCredentialsStub()
  stub.accept('jwt-one')
  capture = createCapturingLogger()
  agent = await startAgent({ server: stub.url, tokenFile, logger: capture.logger })
})
afterEach(async () => {
  await agent.close()
  await stub.close()
})

describe('credentials', () => {
  it('when GET /credentials, then exactly the credentials-URI shape, not cached by intermediaries', async () => {
    const res = await fetch(`${agent.url}/credentials`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual([
      'AccessKeyId',
      'AccessKeySecret',
      'Code',
      'Expiration',
      'SecurityToken',
    ])
    expect(body).toMatchObject({
      Code: 'Success',
      AccessKeyId: 'STS.stub-1',
      AccessKeySecret: 'stub-secret-1',
      SecurityToken: 'stub-security-token-1',
    })
    expect(body['Expiration']).toMatch(UTC)
  })

  it('when the role list is read, then it is the default role name as text', async () => {
    for (const path of [ROLES, ROLES.slice(0, -1)]) {
      const res = await fetch(`${agent.url}${path}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await res.text()).toBe('sts-vend')
    }
  })

  it("when the role's path is read, then the ECS metadata shape with LastUpdated = when the agent fetched", async () => {
    const before = formatExpiration(new Date(Date.now() - 1000))
    const res = await fetch(`${agent.url}${ROLES}sts-vend`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, string>
    expect(Object.keys(body).sort()).toEqual([
      'AccessKeyId',
      'AccessKeySecret',
      'Code',
      'Expiration',
      'LastUpdated',
      'SecurityToken',
    ])
    expect(body['Code']).toBe('Success')
    expect(body['LastUpdated']).toMatch(UTC)
    expect(body['LastUpdated']! >= before).toBe(true)
    expect(body['LastUpdated']! <= formatExpiration(new Date())).toBe(true)
  })

  it('when both paths are read, then they serve the same cached credentials (one upstream request)', async () => {
    const a = (await (await fetch(`${agent.url}/credentials`)).json()) as Record<string, string>
    const b = (await (await fetch(`${agent.url}${ROLES}sts-vend`)).json()) as Record<string, string>
    expect(b['AccessKeyId']).toBe(a['AccessKeyId'])
    expect(stub.hits).toHaveLength(1)
  })

  it('when another role name is asked, then 404', async () => {
    for (const name of ['other', 'sts-vend/', 'STS-VEND', '%E0%A4%A']) {
      const res = await fetch(`${agent.url}${ROLES}${name}`)
      expect(res.status).toBe(404)
    }
    expect(stub.hits).toHaveLength(0)
  })

  it('when a role name is configured, then the list and the path use it', async () => {
    const named = await startAgent({
      server: stub.url,
      tokenFile,
      roleName: 'app-role',
      logger: capture.logger,
    })
    try {
      expect(await (await fetch(`${named.url}${ROLES}`)).text()).toBe('app-role')
      expect((await fetch(`${named.url}${ROLES}app-role`)).status).toBe(200)
      expect((await fetch(`${named.url}${ROLES}sts-vend`)).status).toBe(404)
    } finally {
      await named.close()
    }
  })
})

describe('IMDSv2 token', () => {
  it('when PUT /latest/api/token with a TTL, then a token and the TTL echoed', async () => {
    const res = await fetch(`${agent.url}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aliyun-ecs-metadata-token-ttl-seconds': '21600' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-aliyun-ecs-metadata-token-ttl-seconds')).toBe('21600')
    expect(await res.text()).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it.each([undefined, '0', '21601', 'abc', '1.5'])('when the TTL header is %s, then 400', async (ttl) => {
    const res = await fetch(`${agent.url}/latest/api/token`, {
      method: 'PUT',
      headers: ttl === undefined ? {} : { 'x-aliyun-ecs-metadata-token-ttl-seconds': ttl },
    })
    expect(res.status).toBe(400)
  })
})

describe('routing', () => {
  it.each([
    ['POST', '/credentials', 405, 'GET'],
    ['HEAD', '/credentials', 405, 'GET'],
    ['GET', '/latest/api/token', 405, 'PUT'],
    ['PUT', ROLES, 405, 'GET'],
    ['DELETE', `${ROLES}sts-vend`, 405, 'GET'],
    ['GET', '/', 404, null],
    ['GET', '/Credentials', 404, null],
    ['GET', '/v1/credentials', 404, null],
  ])('when %s %s, then %i', async (method, path, status, allow) => {
    const res = await fetch(`${agent.url}${path}`, { method })
    expect(res.status).toBe(status)
    expect(res.headers.get('allow')).toBe(allow)
  })

  it('when a query string is added, then the path still matches', async () => {
    expect((await fetch(`${agent.url}/credentials?x=1`)).status).toBe(200)
  })
})

describe('who is answered', () => {
  it.each(['10.0.0.5', '::ffff:192.168.0.9', '2001:db8::1'])(
    'when the peer is %s, then 403 and no upstream call',
    async (address) => {
      const undo = poseAsPeer(agent.server, address)
      try {
        for (const path of ['/credentials', `${ROLES}sts-vend`, ROLES]) {
          const res = await rawRequest(`${agent.url}${path}`, { headers: { connection: 'close' } })
          expect(res.status).toBe(403)
          expect(res.text).not.toContain('stub-secret')
        }
      } finally {
        undo()
      }
      expect(stub.hits).toHaveLength(0)
    },
  )

  it.each([
    ['a DNS name (rebinding)', 403, 'attacker.example'],
    ['a DNS name and port', 403, 'attacker.example:80'],
    ['the ECS metadata address', 200, '100.100.100.200'],
    ['localhost', 200, 'localhost'],
  ])('when the Host header is %s, then %i', async (_n, status, host) => {
    const res = await rawRequest(`${agent.url}/credentials`, { headers: { host } })
    expect(res.status).toBe(status)
  })
})

describe('upstream failures', () => {
  it('when sts-vend refuses and nothing is cached, then 503 upstream_unavailable with Retry-After and no secret', async () => {
    stub.fault({ status: 403, error: 'access_denied' })
    for (const path of ['/credentials', `${ROLES}sts-vend`]) {
      const res = await fetch(`${agent.url}${path}`)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.json()).toMatchObject({ error: 'upstream_unavailable' })
    }
    expect(capture.lines.some((l) => l['event'] === 'agent.unavailable')).toBe(true)
  })

  it('when the token file cannot be read and nothing is cached, then 503 token_file_unreadable', async () => {
    const broken = await startAgent({
      server: stub.url,
      tokenFile: join(dir, 'missing'),
      logger: capture.logger,
    })
    try {
      const res = await fetch(`${broken.url}/credentials`)
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ error: 'token_file_unreadable' })
    } finally {
      await broken.close()
    }
  })

  it('when sts-vend goes away after a success, then the cached credentials keep being served', async () => {
    expect((await fetch(`${agent.url}/credentials`)).status).toBe(200)
    await stub.close()
    writeFileSync(tokenFile, 'jwt-rotated')
    const res = await fetch(`${agent.url}/credentials`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as Record<string, string>)['AccessKeyId']).toBe('STS.stub-1')
  })
})

describe('options', () => {
  it.each([
    ['a non-loopback host', { host: '0.0.0.0' }],
    ['a LAN host', { host: '192.168.1.5' }],
    ['a relative server URL', { server: 'sts-vend.example.com' }],
    ['an ftp server URL', { server: 'ftp://sts-vend.example.com' }],
    ['plain http to a remote server', { server: 'http://sts-vend.example.com' }],
    ['a server URL with a query', { server: 'https://sts-vend.example.com/?token=x' }],
    ['a server URL with credentials', { server: 'https://u:p@sts-vend.example.com' }],
    ['a bad role name', { roleName: 'a/b' }],
    ['an empty rule', { rule: '' }],
  ])('when given %s, then AgentOptionError before listening', async (_n, extra) => {
    const err = await startAgent({ server: stub.url, tokenFile, logger: capture.logger, ...extra }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(AgentOptionError)
    expect(err).toMatchObject({ code: 'ERR_AGENT_OPTION' })
  })

  it('when plain http to a remote server is explicitly allowed, then it starts', async () => {
    const allowed = await startAgent({
      server: 'http://sts-vend.internal.example',
      allowHttp: true,
      tokenFile,
      logger: capture.logger,
    })
    await allowed.close()
  })

  it('when the server URL has a base path, then /v1/credentials is appended to it', async () => {
    const hits: string[] = []
    const recording: typeof fetch = async (url) => {
      hits.push(String(url))
      return new Response('{}', { status: 500 })
    }
    const based = await startAgent({
      server: 'https://gw.example.com/sts-vend/',
      tokenFile,
      logger: capture.logger,
      fetch: recording,
    })
    try {
      await fetch(`${based.url}/credentials`)
      expect(hits).toEqual(['https://gw.example.com/sts-vend/v1/credentials?format=json'])
    } finally {
      await based.close()
    }
  })
})
