// One load cell: autocannon against a server process, with its CPU, RSS and STS calls measured around it.
import { createRequire } from 'node:module'
import { cpuMicros, memoryBytes } from './proc.ts'

const require = createRequire(import.meta.url)

interface AutocannonRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest
  onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string>) => void
}

interface AutocannonOptions {
  url: string
  connections: number
  duration?: number
  amount?: number
  headers?: Record<string, string>
  requests?: AutocannonRequest[]
}

interface AutocannonResult {
  latency: { p50: number; p99: number; average: number }
  requests: { total: number }
  duration: number
  errors: number
  timeouts: number
  non2xx: number
  '2xx': number
  statusCodeStats: Record<string, { count: number }>
}

const autocannon = require('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>

export interface CellTarget {
  name: string
  url: string
  pid: number
  /** AssumeRole calls the emulator received so far (all clients). */
  assumeRoleCalls: () => Promise<number>
}

export interface CellLoad {
  connections: number
  /** Seconds to run, or… */
  seconds?: number
  /** …a fixed number of requests. */
  amount?: number
  /** Bearer tokens: one repeated, or several in round-robin. */
  tokens: readonly string[]
  /** Called with each response when given, header names lower-cased (the cold-cache cell checks every 503). */
  onResponse?: (status: number, body: string, headers: Record<string, string>) => void
}

export interface CellResult {
  requests: number
  ok: number
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  seconds: number
  reqPerSec: number
  okPerSec: number
  p50Ms: number
  p99Ms: number
  cpuMicrosPerRequest: number
  rssBeforeBytes: number
  rssAfterBytes: number
  assumeRolePer1000: number
}

/** Runs one cell: GET /v1/credentials with the tokens, measuring the server process before and after. */
export async function runCell(target: CellTarget, load: CellLoad): Promise<CellResult> {
  const { tokens } = load
  if (tokens.length === 0) throw new TypeError('a cell needs at least one token')
  let next = 0
  const onResponse = load.onResponse
  const request: AutocannonRequest = {
    method: 'GET',
    path: '/v1/credentials',
    headers: { authorization: `Bearer ${tokens[0]}` },
    ...(tokens.length > 1
      ? {
          setupRequest: (req: AutocannonRequest) => {
            const token = tokens[next]
            next = (next + 1) % tokens.length
            return { ...req, headers: { authorization: `Bearer ${token}` } }
          },
        }
      : {}),
    ...(onResponse
      ? {
          onResponse: (status, body, _ctx, headers) =>
            onResponse(
              status,
              body,
              Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)])),
            ),
        }
      : {}),
  }
  const stsBefore = await target.assumeRoleCalls()
  const rssBefore = memoryBytes(target.pid)
  const cpuBefore = cpuMicros(target.pid)
  const result = await autocannon({
    url: target.url,
    connections: load.connections,
    ...(load.amount === undefined ? { duration: load.seconds ?? 5 } : { amount: load.amount }),
    requests: [request],
  })
  const cpuAfter = cpuMicros(target.pid)
  const rssAfter = memoryBytes(target.pid)
  const stsAfter = await target.assumeRoleCalls()
  const requests = result.requests.total
  const seconds = result.duration
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]))
  return {
    requests,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
    seconds,
    reqPerSec: requests / seconds,
    okPerSec: result['2xx'] / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: requests > 0 ? (cpuAfter - cpuBefore) / requests : 0,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    assumeRolePer1000: requests > 0 ? ((stsAfter - stsBefore) * 1000) / requests : 0,
  }
}
