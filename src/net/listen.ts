// Starting a server: listen and report the bound port, with listen errors (EADDRINUSE) as rejections.
import type { Server } from 'node:net'

/** `host:port` as it goes in a URL (IPv6 in brackets). */
export function urlHost(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Listens on host:port (0 = a free port) and resolves with the bound port; rejects on a listen error. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  return typeof address === 'object' && address ? address.port : port
}
