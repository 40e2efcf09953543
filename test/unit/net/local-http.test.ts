// The raw node:http answers shared by the agent, the dev issuer and the emulator (src/net/local-http.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { readBody, sendJson } from '../../../src/net/local-http.ts'

let server: Server | undefined

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

describe('sendJson', () => {
  it('when an answer is sent, then it is JSON that no cache keeps, with its exact length', async () => {
    const url = await serve((_req, res) => sendJson(res, 201, { ok: 'ü' }))
    const res = await fetch(url)
    expect(res.status).toBe(201)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength('{"ok":"ü"}')))
    expect(await res.json()).toEqual({ ok: 'ü' })
  })

  it("when a caller names a content type (the emulator's STS form), then it replaces the default", async () => {
    const url = await serve((_req, res) =>
      sendJson(res, 200, {}, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': 'R' }),
    )
    const res = await fetch(url)
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8')
    expect(res.headers.get('x-acs-request-id')).toBe('R')
  })

  it('when the answer has already started, then a second sendJson writes nothing and does not throw', async () => {
    const url = await serve((_req, res) => {
      sendJson(res, 200, { first: true })
      sendJson(res, 500, { second: true })
    })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ first: true })
  })
})

describe('readBody', () => {
  const echoSize = (max: number) =>
    serve((req, res) => {
      readBody(req, max).then((body) => sendJson(res, 200, { size: body === null ? null : body.length }))
    })

  it('when the body is within the cap, then it is read whole', async () => {
    const url = await echoSize(10)
    const res = await fetch(url, { method: 'POST', body: 'x'.repeat(10) })
    expect(await res.json()).toEqual({ size: 10 })
  })

  it('when the body is over the cap, then it is null (drained, so the answer still arrives)', async () => {
    const url = await echoSize(10)
    const res = await fetch(url, { method: 'POST', body: 'x'.repeat(100_000) })
    expect(await res.json()).toEqual({ size: null })
  })
})
