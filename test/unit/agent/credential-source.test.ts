// The agent's cache: token file re-read per request, refresh at refreshAfter or on a new token, fall back while valid.
import { once } from 'node:events'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCredentialSource } from '../../../src/agent/credential-source.ts'
import { RefreshError } from '../../../src/agent/errors.ts'
import { createCapturingLogger } from '../../../src/logger.ts'
import { type CredentialsStub, startCredentialsStub } from '../../fixtures/credentials-stub.ts'
import { deadPort } from '../../fixtures/ports.ts'

const dir = mkdtempSync(join(tmpdir(), 'sts-vend-agent-source-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const START = new Date('2026-03-01T10:00:00Z').getTime()
let clock = START
const now = () => new Date(clock)
const advance = (seconds: number) => {
  clock += seconds * 1000
}

let stub: CredentialsStub
let tokenFile: string
let capture: ReturnType<typeof createCapturingLogger>

beforeEach(async () => {
  clock = START
  stub = await startCredentialsStub({ now, times: { lifetimeSeconds: 3600, refreshAfterSeconds: 3000 } })
  stub.accept('jwt-one', 'jwt-two')
  tokenFile = join(dir, `token-${Math.random().toString(36).slice(2)}`)
  writeFileSync(tokenFile, 'jwt-one\n')
  capture = createCapturingLogger()
})
afterEach(() => stub.close())

function source(
  extra: {
    server?: string
    rule?: string
    prefix?: string
    access?: string
    fetch?: typeof fetch
    timeoutMs?: number
  } = {},
) {
  return createCredentialSource({ server: stub.url, tokenFile, logger: capture.logger, now, ...extra })
}

describe('fetching and caching', () => {
  it('when first asked, then it GETs /v1/credentials?format=json with the file token as bearer', async () => {
    const creds = await source().get()
    expect(stub.hits).toEqual([{ bearer: 'jwt-one', query: { format: 'json' }, served: 1 }])
    expect(creds).toEqual({
      ...stub.credentialsOf(1),
      expiration: new Date(START + 3600_000),
      refreshAfter: new Date(START + 3000_000),
      fetchedAt: new Date(START),
    })
  })

  it('when rule, prefix and access are given, then they go in the query', async () => {
    await source({ rule: 'ci', prefix: 'workloads/ci/a/', access: 'read' }).get()
    expect(stub.hits[0]?.query).toEqual({
      format: 'json',
      rule: 'ci',
      prefix: 'workloads/ci/a/',
      access: 'read',
    })
  })

  it('when asked again before refreshAfter, then the cached credentials are served without a request', async () => {
    const s = source()
    await s.get()
    advance(2999)
    expect((await s.get()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits).toHaveLength(1)
  })

  it('when refreshAfter has passed, then it fetches again', async () => {
    const s = source()
    await s.get()
    advance(3000)
    expect((await s.get()).accessKeyId).toBe('STS.stub-2')
    expect(stub.hits).toHaveLength(2)
  })

  it('when the token file changes, then it fetches with the new token before refreshAfter', async () => {
    const s = source()
    await s.get()
    advance(10)
    writeFileSync(tokenFile, 'jwt-two')
    expect((await s.get()).accessKeyId).toBe('STS.stub-2')
    expect(stub.hits.map((h) => h.bearer)).toEqual(['jwt-one', 'jwt-two'])
    expect((await s.get()).accessKeyId).toBe('STS.stub-2')
    expect(stub.hits).toHaveLength(2)
  })

  it('when many requests arrive at once, then one upstream request serves them all', async () => {
    const s = source()
    const all = await Promise.all(Array.from({ length: 10 }, () => s.get()))
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(['STS.stub-1']))
    expect(stub.hits).toHaveLength(1)
  })

  it('when refreshAfter is already past on arrival, then the answer is still kept for a second', async () => {
    stub.setTimes({ lifetimeSeconds: 900, refreshAfterSeconds: -60 })
    const s = source()
    await s.get()
    await s.get()
    expect(stub.hits).toHaveLength(1)
    advance(1)
    await s.get()
    expect(stub.hits).toHaveLength(2)
  })
})

describe('failures', () => {
  it('when sts-vend fails after a success, then the cached credentials are served while valid, with backoff', async () => {
    const s = source()
    await s.get()
    advance(3000)
    stub.fault({ status: 503 })
    expect((await s.get()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits).toHaveLength(2)
    expect((await s.get()).accessKeyId).toBe('STS.stub-1')
    expect(stub.hits).toHaveLength(2)
    advance(1)
    stub.fault(undefined)
    expect((await s.get()).accessKeyId).toBe('STS.stub-2')
    expect(capture.lines.some((l) => l['event'] === 'agent.refresh_failed')).toBe(true)
  })

  it('when the cached credentials have expired and sts-vend still fails, then it throws', async () => {
    const s = source()
    await s.get()
    stub.fault({ status: 503 })
    advance(3600)
    await expect(s.get()).rejects.toMatchObject({ reason: 'upstream_refused', upstreamStatus: 503 })
  })

  it.each([
    ['a 401', { status: 401, error: 'invalid_token' }, 'upstream_refused', 401, 'invalid_token'],
    ['a 403', { status: 403, error: 'access_denied' }, 'upstream_refused', 403, 'access_denied'],
    ['a reset', { reset: true as const }, 'upstream_unreachable', undefined, undefined],
    ['a 200 without securityToken', { invalid: true as const }, 'upstream_invalid', undefined, undefined],
  ])(
    'when sts-vend answers %s with nothing cached, then RefreshError %s',
    async (_n, fault, reason, status, error) => {
      stub.fault(fault)
      const err = await source()
        .get()
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RefreshError)
      expect(err).toMatchObject({ reason, upstreamStatus: status, upstreamError: error })
    },
  )

  it('when the token is not accepted, then upstream_refused 401 (the stub checks the bearer)', async () => {
    writeFileSync(tokenFile, 'jwt-unknown')
    await expect(source().get()).rejects.toMatchObject({ reason: 'upstream_refused', upstreamStatus: 401 })
  })

  it('when sts-vend is not listening, then upstream_unreachable', async () => {
    const server = `http://127.0.0.1:${await deadPort()}`
    await expect(source({ server }).get()).rejects.toMatchObject({ reason: 'upstream_unreachable' })
  })

  it('when sts-vend does not answer in time, then upstream_unreachable', async () => {
    const hanging: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    await expect(source({ fetch: hanging, timeoutMs: 50 }).get()).rejects.toMatchObject({
      reason: 'upstream_unreachable',
      message: expect.stringContaining('50 ms'),
    })
  })

  it('when sts-vend answers a 200 MiB body, then the agent stops reading just past 64 KiB, cancels it and refuses (issue 16 item 5)', async () => {
    const CHUNK = 16 * 1024
    let pulled = 0
    let cancelled = false
    const huge: typeof fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              if (pulled >= 200 * 1024 * 1024) return controller.close()
              pulled += CHUNK
              controller.enqueue(new Uint8Array(CHUNK).fill(0x20))
            },
            cancel() {
              cancelled = true
            },
          },
          { highWaterMark: 0 },
        ),
        { status: 200, headers: { 'content-type': 'application/json' } },
      )
    await expect(source({ fetch: huge }).get()).rejects.toMatchObject({ reason: 'upstream_invalid' })
    expect(pulled).toBeGreaterThan(64 * 1024)
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK)
    expect(cancelled).toBe(true)
  })

  it('when a real upstream streams 200 MiB, then the agent drops the connection long before the end', async () => {
    let written = 0
    let closedAt: number | undefined
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (written < 200 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      res.on('close', () => {
        closedAt = written
      })
      pump()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const s = createCredentialSource({ server: url, tokenFile, logger: capture.logger, now })
      await expect(s.get()).rejects.toMatchObject({ reason: 'upstream_invalid' })
      for (let i = 0; i < 200 && closedAt === undefined; i++) await new Promise((r) => setTimeout(r, 10))
      expect(closedAt).toBeDefined()
      // What the server managed to write is the agent's 64 KiB plus what the kernel's socket buffers held
      // (about 4 MiB measured; 200 MiB before the fix).
      expect(closedAt).toBeLessThan(16 * 1024 * 1024)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it.each([
    ['missing', () => unlinkSync(tokenFile)],
    ['empty', () => writeFileSync(tokenFile, ' \n')],
  ])('when the token file is %s and nothing is cached, then token_file_unreadable', async (_n, breakFile) => {
    breakFile()
    await expect(source().get()).rejects.toMatchObject({ reason: 'token_file_unreadable' })
    expect(stub.hits).toHaveLength(0)
  })

  it('when the token file disappears after a success, then the cached credentials are served while valid', async () => {
    const s = source()
    await s.get()
    unlinkSync(tokenFile)
    advance(3500)
    expect((await s.get()).accessKeyId).toBe('STS.stub-1')
    advance(100)
    await expect(s.get()).rejects.toMatchObject({ reason: 'token_file_unreadable' })
  })
})

describe('logs', () => {
  it('when it refreshes, fails and falls back, then no log line holds the token or a secret', async () => {
    const s = source()
    await s.get()
    writeFileSync(tokenFile, 'jwt-two')
    await s.get()
    advance(3000)
    stub.fault({ status: 500 })
    await s.get()
    expect(capture.lines.map((l) => l['event'])).toEqual(
      expect.arrayContaining(['agent.refreshed', 'agent.refresh_failed']),
    )
    const all = capture.raw.join('\n')
    for (const secret of ['jwt-one', 'jwt-two', 'stub-secret', 'stub-security-token'])
      expect(all).not.toContain(secret)
  })
})

describe('--alibaba-identity: a fresh login header per fetch instead of the token file (issue 21)', () => {
  /** Records the Authorization each fetch carried, then lets the stub see the bearer it accepts. */
  function recordingFetch(seen: string[]): typeof fetch {
    return (input, init) => {
      const headers = new Headers(init?.headers)
      seen.push(headers.get('authorization') ?? '')
      headers.set('authorization', 'Bearer jwt-one')
      return fetch(input, { ...init, headers })
    }
  }

  it('when credentials are fetched twice, then each fetch carries a newly signed header and the cache holds in between', async () => {
    const seen: string[] = []
    let n = 0
    const s = createCredentialSource({
      server: stub.url,
      tokenFile: join(dir, 'never-read'),
      authorization: async () => `AlibabaIdentity login-${++n}`,
      logger: capture.logger,
      now,
      fetch: recordingFetch(seen),
    })
    await s.get()
    await s.get()
    advance(3001)
    await s.get()
    expect(seen).toEqual(['AlibabaIdentity login-1', 'AlibabaIdentity login-2'])
  })

  it('when the login cannot be signed, then the refresh fails as cannot_sign without reaching sts-vend', async () => {
    const s = createCredentialSource({
      server: stub.url,
      tokenFile: join(dir, 'never-read'),
      authorization: async () => {
        throw new Error('provider text that must not surface')
      },
      logger: capture.logger,
      now,
    })
    const err = await s.get().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RefreshError)
    expect((err as RefreshError).reason).toBe('cannot_sign')
    expect((err as Error).message).not.toContain('provider text')
    expect(stub.hits).toEqual([])
  })
})
