// The app on supertest (healthz, request ids, 404/405 bodies) and the real `sts-vend serve` process (start, drain, exit codes).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Express } from 'express'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../src/server.ts'
import type { StsClient } from '../../src/types.ts'
import { RAM_USER_IDENTITY } from '../fixtures/fake-sts.ts'
import { freePort } from '../fixtures/ports.ts'
import { exitOf as exitWhenRead } from '../fixtures/processes.ts'
import { bareAppUsers, CLOSED_ISSUER, corpIssuer } from '../fixtures/rules.ts'

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** A config whose issuer and STS are never contacted by these tests (no token is ever sent). */
function configYaml(port: number): string {
  return stringify({
    server: { host: '127.0.0.1', port },
    issuers: [corpIssuer(CLOSED_ISSUER)],
    rules: [bareAppUsers({ oss: { access: 'read' } })],
  })
}

const unusedSts: StsClient = {
  assumeRole: () => Promise.reject(new Error('STS must not be called by these tests')),
  getCallerIdentity: () => Promise.resolve(RAM_USER_IDENTITY),
  checkIdentity: () => Promise.resolve(),
}

describe('createApp', () => {
  let app: Express
  let adapters: Adapters

  beforeAll(async () => {
    const { logger } = createCapturingLogger('info')
    adapters = await buildAdapters(loadConfig(configYaml(0)), logger, unusedSts)
    app = createApp(adapters.deps)
  })
  afterAll(() => adapters.close())

  it('when GET /healthz, then 200 {status: ok} with a generated X-Request-Id', async () => {
    const res = await request(app).get('/healthz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ status: 'ok' })
    expect(res.headers['x-request-id']).toMatch(REQUEST_ID)
  })

  it('when two requests carry no id, then each gets its own', async () => {
    const a = await request(app).get('/healthz')
    const b = await request(app).get('/healthz')
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id'])
  })

  it.each([['abc'], ['trace.ID_1-2'], ['a'.repeat(64)]])(
    'when the inbound X-Request-Id is the well-formed %s, then it is kept',
    async (id) => {
      const res = await request(app).get('/healthz').set('X-Request-Id', id)
      expect(res.headers['x-request-id']).toBe(id)
    },
  )

  it.each([['has space'], ['a'.repeat(65)], ['a/b'], ['<script>'], ['x;y'], ['"quoted"']])(
    'when the inbound X-Request-Id is the malformed %j, then it is replaced by a well-formed one',
    async (id) => {
      const res = await request(app).get('/nope').set('X-Request-Id', id)
      expect(res.headers['x-request-id']).not.toBe(id)
      expect(res.headers['x-request-id']).toMatch(REQUEST_ID)
      expect(res.body.request_id).toBe(res.headers['x-request-id'])
      expect(JSON.stringify(res.body)).not.toContain(id)
    },
  )

  it.each([['/nope'], ['/HEALTHZ'], ['/Healthz'], ['/healthz/'], ['/v1/nope']])(
    'when GET %s (unknown; paths are case-sensitive), then 404 with exactly {error, error_description, request_id}',
    async (path) => {
      const res = await request(app).get(path).set('X-Request-Id', 'req-404')
      expect(res.status).toBe(404)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(res.body).toEqual({
        error: 'not_found',
        error_description: expect.any(String),
        request_id: 'req-404',
      })
      expect(res.headers['x-request-id']).toBe('req-404')
    },
  )

  it.each([['POST'], ['PUT'], ['DELETE'], ['PATCH']])(
    'when %s /healthz, then 405 with Allow: GET and the error body',
    async (method) => {
      const res = await request(app)[method.toLowerCase() as 'post' | 'put' | 'delete' | 'patch']('/healthz')
      expect(res.status).toBe(405)
      expect(res.headers['allow']).toBe('GET')
      expect(res.body).toEqual({
        error: 'method_not_allowed',
        error_description: expect.any(String),
        request_id: res.headers['x-request-id'],
      })
    },
  )
})

function exitOf(
  child: ChildProcess,
  withinMs: number,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no exit within ${withinMs} ms`)), withinMs)
    void exitWhenRead(child).then((code) => {
      clearTimeout(timer)
      resolve({ code, signal: child.signalCode })
    })
  })
}

async function waitForHealthz(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early with ${child.exitCode}`)
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.status === 200,
      () => false,
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url}/healthz did not answer within ${timeoutMs} ms`)
}

describe('sts-vend serve as a real process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-vend-serve-'))
  const AK_SECRET = 'SENTINEL-service-ak-secret-x9'
  let child: ChildProcess | undefined
  let stdout = ''
  let stderr = ''

  function serve(configFile: string): ChildProcess {
    stdout = ''
    stderr = ''
    child = spawn(process.execPath, ['bin/sts-vend.js', 'serve', '--config', configFile], {
      env: {
        ...process.env,
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-service-id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: AK_SECRET,
        STS_VEND_CONFIG: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    return child
  }

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exitOf(child, 5000)
    }
    child = undefined
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('when it is started, then /healthz answers, and SIGTERM makes it exit 0 within 5 s', async () => {
    const port = await freePort()
    const file = join(dir, 'valid.yaml')
    writeFileSync(file, configYaml(port))
    const proc = serve(file)
    const url = `http://127.0.0.1:${port}`
    await waitForHealthz(url, proc, 15_000)

    const res = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': 'from-the-test' } })
    expect(res.headers.get('x-request-id')).toBe('from-the-test')

    proc.kill('SIGTERM')
    const started = Date.now()
    expect(await exitOf(proc, 5000)).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5000)

    const lines = stdout.split('\n').filter(Boolean)
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    expect(lines.some((line) => JSON.parse(line).event === 'server.listening')).toBe(true)
    expect(stdout + stderr).not.toContain(AK_SECRET)
  })

  it('when the config is invalid, then it exits 1 with every problem on stderr and never listens', async () => {
    const file = join(dir, 'invalid.yaml')
    const doc = parse(configYaml(await freePort()))
    Object.assign(doc.server, { trustProxyHops: true, cors: { origins: ['*'] } })
    doc.issuers[0].algorithms = ['RS256', 'none']
    doc.rules[0].issuer = 'crop'
    doc.limits = { perip: { limit: 10 } }
    writeFileSync(file, stringify(doc))
    const proc = serve(file)
    expect(await exitOf(proc, 15_000)).toEqual({ code: 1, signal: null })
    for (const path of [
      'server.trustProxyHops',
      'server.cors.origins[0]',
      'issuers[0].algorithms[1]',
      'rules[0].issuer',
      'limits: unknown key: perip',
    ]) {
      expect(stderr).toContain(path)
    }
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(stdout).not.toContain('server.listening')
  })

  it('when its port is taken, then it exits 1 with one clear line, not a stack trace', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const address = blocker.address()
      const port = typeof address === 'object' && address ? address.port : 0
      const file = join(dir, 'busy.yaml')
      writeFileSync(file, configYaml(port))
      const proc = serve(file)
      // Bounds for a process start on a loaded runner (it asks STS who it is before it listens), not timing claims.
      expect(await exitOf(proc, 30_000)).toEqual({ code: 1, signal: null })
      expect(stderr.trim()).toBe(`sts-vend: cannot listen on 127.0.0.1:${port}: EADDRINUSE`)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  }, 40_000)

  it('when the config file does not exist, then it exits 1 with a clear message', async () => {
    const proc = serve(join(dir, 'missing.yaml'))
    expect(await exitOf(proc, 15_000)).toEqual({ code: 1, signal: null })
    expect(stderr).toContain('ENOENT')
    expect(stderr).not.toMatch(/\n\s+at /)
  })
})
