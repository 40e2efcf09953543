// Answers of the raw node:http servers (the agent, the dev issuer, the emulator): JSON and text replies,
// capped request bodies, and the loopback fence.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isLoopbackPeer, isSafeHostHeader } from './host.ts'

/** The JSON content type these servers write unless a caller names another (the emulator's STS answers). */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/**
 * Writes `body` as JSON that no cache keeps; `headers` add to or replace the defaults (not
 * Content-Length). A no-op once the answer started or the socket is gone.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'cache-control': 'no-store',
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}

/** Writes a plain-text answer that no cache keeps. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/**
 * Answers 403 and returns false unless the request comes from a loopback peer with a safe Host header
 * (see isLoopbackPeer, isSafeHostHeader). The server also listens on loopback only; this is the second fence.
 */
export function admitLocalRequest(req: IncomingMessage, res: ServerResponse): boolean {
  if (isLoopbackPeer(req.socket.remoteAddress) && isSafeHostHeader(req.headers.host)) return true
  sendJson(res, 403, { error: 'forbidden', error_description: 'only loopback clients are answered' })
  return false
}

/** Answers 405 with an Allow header. */
export function methodNotAllowed(res: ServerResponse, allow: readonly string[]): void {
  sendJson(
    res,
    405,
    { error: 'method_not_allowed', error_description: `use ${allow.join(', ')}` },
    { allow: allow.join(', ') },
  )
}

/** Answers 404. */
export function notFound(res: ServerResponse): void {
  sendJson(res, 404, { error: 'not_found', error_description: 'no such path' })
}

/**
 * The whole request body, or null when it exceeds `maxBytes` (the rest is drained, not kept) so the
 * caller can refuse it. Rejects when the request fails (e.g. the client aborts).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size <= maxBytes) chunks.push(chunk as Buffer)
  }
  return size > maxBytes ? null : Buffer.concat(chunks)
}
