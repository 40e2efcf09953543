// node:http requests for tests that must set headers fetch forbids (Host) or pose as a non-loopback peer.
import { request, type Server } from 'node:http'
import type { Socket } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json(): unknown
}

/** One request to `url` with exactly these headers (Host included when given). Times out after 5 s. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | undefined } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
        })
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}

/**
 * Makes `server` see every new connection as coming from `address` (a real loopback connection whose
 * remoteAddress is overridden), so tests can exercise the non-loopback refusal. Returns the undo.
 */
export function poseAsPeer(server: Server, address: string): () => void {
  const listener = (socket: Socket) => {
    Object.defineProperty(socket, 'remoteAddress', { value: address, configurable: true })
  }
  server.prependListener('connection', listener)
  return () => {
    server.off('connection', listener)
  }
}
