// Reading request bodies and writing JSON answers, shared by the STS and control endpoints.
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Bodies above this are refused: no STS request comes near it (a Policy is at most 2048 characters). */
export const MAX_BODY_BYTES = 256 * 1024

/** The whole request body, or null when it exceeds MAX_BODY_BYTES (the rest is drained, not kept). */
export async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer)
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks)
}

/** Answers `body` as JSON with Alibaba's content type; a no-op once the answer started or the socket is gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json;charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}
