// Loopback-only HTTP servers (the agent, the dev issuer): which peers and Host headers they answer, and JSON replies.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { isLoopbackHost } from '../config/loopback.ts'

/** True for a socket remote address in 127.0.0.0/8 or ::1, including the IPv4-mapped form `::ffff:127.x.x.x`. */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (!address) return false
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address)
  const ip = mapped?.[1] ?? address
  return isIP(ip) !== 0 && isLoopbackHost(ip)
}

/**
 * True when a Host header names an IP literal or `localhost` (any port), or is absent (HTTP/1.0).
 * A browser led to a loopback server by DNS rebinding sends the attacker's host name here, so refusing
 * every other name keeps web pages from reading what a loopback server answers (tokens, credentials).
 */
export function isSafeHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true
  if (!/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return false
  let hostname: string
  try {
    hostname = new URL(`http://${host}`).hostname
  } catch {
    return false
  }
  const bare = hostname.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || isIP(bare) !== 0
}

/** Writes a JSON answer that no cache keeps. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
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
 * Reads a request body up to `maxBytes`. Resolves undefined when the body is larger (the rest is
 * drained, not buffered) so the caller can answer 413.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) tooLarge = true
      if (!tooLarge) chunks.push(chunk)
    })
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
