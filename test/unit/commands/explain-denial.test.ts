// `sts-vend explain-denial` against the real app on loopback (recording STS): text, JSON, token file, refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT, runCli } from '../../../src/cli.ts'
import { captureIo } from '../../fixtures/cli-io.ts'
import { ALICE, createHarness, type Harness } from '../../integration/http/harness.ts'

let h: Harness
let server: Server
let url: string
let dir: string
let keyId: string

beforeAll(async () => {
  h = await createHarness()
  server = createServer(h.app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dir = mkdtempSync(join(tmpdir(), 'sts-vend-explain-denial-'))
  const token = await h.token()
  const res = await h
    .agent()
    .post('/v1/credentials')
    .set('Authorization', `Bearer ${token}`)
    .send({ access: 'read' })
  keyId = res.body.accessKeyId
})
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await h.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('sts-vend explain-denial', () => {
  it('when alice asks about a PutObject with read credentials, then it prints the layer, rule, action, key, reason and fix and exits 0', async () => {
    const io = captureIo()
    const args = ['--server', url, '--token', await h.token(), '--key-id', keyId, '--action', 'oss:PutObject']
    expect(await runCli(['explain-denial', ...args, '--key', 'users/alice/a.jpg'], io)).toBe(EXIT.ok)
    const lines = io.stdout().trimEnd().split('\n')
    expect(lines.map((l) => l.split(':')[0])).toEqual(['layer', 'rule', 'action', 'key', 'reason', 'fix'])
    expect(lines[0]).toBe('layer:  session-policy')
    expect(lines[1]).toBe('rule:   app-users')
  })

  it('when --token-file and --json are given, then it prints the JSON answer', async () => {
    const file = join(dir, 'token')
    writeFileSync(file, `${await h.token()}\n`)
    const io = captureIo()
    const args = [
      '--server',
      url,
      '--token-file',
      file,
      '--key-id',
      keyId,
      '--action',
      'oss:GetObject',
      '--key',
      'users/alice/a',
      '--json',
    ]
    expect(await runCli(['explain-denial', ...args], io)).toBe(EXIT.ok)
    expect(JSON.parse(io.stdout())).toMatchObject({ layer: 'outside-session-policy', rule: 'app-users' })
  })

  it('when bob asks about alice’s key, then it reports the 404 and exits 1', async () => {
    const io = captureIo()
    const token = await h.token({ ...ALICE, sub: 'bob' })
    const args = [
      '--server',
      url,
      '--token',
      token,
      '--key-id',
      keyId,
      '--action',
      'oss:GetObject',
      '--key',
      'k',
    ]
    expect(await runCli(['explain-denial', ...args], io)).toBe(EXIT.invalid)
    expect(io.stderr()).toContain('answered 404 not_found')
    expect(io.stdout()).toBe('')
  })

  it('when a required option is missing or both token options are given, then it is a usage error (2)', async () => {
    for (const args of [
      ['--token', 't', '--key-id', keyId, '--action', 'oss:GetObject'],
      ['--server', url, '--key-id', keyId, '--action', 'oss:GetObject'],
      ['--server', url, '--token', 't', '--token-file', 'f', '--key-id', keyId, '--action', 'oss:GetObject'],
      ['--server', url, '--token', 't', '--action', 'oss:GetObject'],
    ]) {
      const io = captureIo()
      expect(await runCli(['explain-denial', ...args], io), args.join(' ')).toBe(EXIT.usage)
    }
  })
})
