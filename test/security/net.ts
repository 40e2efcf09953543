// Raw-socket helpers for the HTTP and DoS cases: requests supertest cannot make, and sockets held open.
import { request as httpRequest, type Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'

/** Listens `handler` (an express app) on 127.0.0.1:0 and returns its port and a close function. */
export async function listenLocal(
  server: Server,
  host = '127.0.0.1',
): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** POSTs `total` bytes in chunks with Transfer-Encoding: chunked; resolves the status and body (stops writing once answered). */
export function chunkedPost(
  port: number,
  path: string,
  total: number,
): Promise<{ status: number; body: string; written: number }> {
  return new Promise((resolve, reject) => {
    let written = 0
    let answered = false
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      },
      (res) => {
        answered = true
        let body = ''
        res.on('data', (c: Buffer) => {
          body += c.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, written }))
      },
    )
    req.on('error', (err) => (answered ? undefined : reject(err)))
    const chunk = Buffer.alloc(16 * 1024, 0x20)
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length
        if (!req.write(chunk)) {
          req.once('drain', pump)
          return
        }
      }
      if (!answered) req.end()
    }
    pump()
  })
}

/** Opens a socket to 127.0.0.1:port; resolves once connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', reject)
  })
}

/** Resolves with the ms until `socket` is closed by the peer, or rejects after `limitMs`. */
export function closedWithin(socket: Socket, limitMs: number, since = performance.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve(performance.now() - since)
      return
    }
    const timer = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(performance.now() - since)
    })
    socket.on('error', () => undefined)
  })
}

/** Wall time of one GET, in ms. */
export async function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const started = performance.now()
  const res = await fetch(url)
  await res.arrayBuffer()
  return { ms: performance.now() - started, status: res.status }
}
