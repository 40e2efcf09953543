// A paced, closed-loop HTTP load generator that keeps every answer, for the soak: c workers on keep-alive sockets.
import { Agent, type IncomingHttpHeaders, request } from 'node:http'

export interface Plan {
  kind: 'hit' | 'miss' | 'probe'
  subject: string
  token: string
  /** Asked durationSeconds (misses), else the rule's default. */
  durationSeconds?: number
}

export interface Outcome {
  status: number
  body: string
  headers: IncomingHttpHeaders
  /** The socket error code when no answer came (ECONNRESET, ECONNREFUSED…). */
  error?: string
  /** performance.now() when the request was sent and when it settled. */
  started: number
  ended: number
}

/** Sends `GET /v1/credentials` for `plan` and resolves with the answer or the socket error (never rejects). */
export function send(agent: Agent, baseUrl: string, plan: Plan): Promise<Outcome> {
  const started = performance.now()
  const path =
    plan.durationSeconds === undefined
      ? '/v1/credentials'
      : `/v1/credentials?durationSeconds=${plan.durationSeconds}`
  return new Promise((resolve) => {
    const req = request(
      `${baseUrl}${path}`,
      { agent, headers: { authorization: `Bearer ${plan.token}` } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
            started,
            ended: performance.now(),
          }),
        )
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({
            status: 0,
            body: '',
            headers: {},
            error: err.code ?? err.message,
            started,
            ended: performance.now(),
          }),
        )
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({
        status: 0,
        body: '',
        headers: {},
        error: err.code ?? err.message,
        started,
        ended: performance.now(),
      }),
    )
    req.end()
  })
}

export interface LoadLoop {
  agent: Agent
  /** Requests sent and not yet settled, by id. */
  pending: Map<number, { plan: Plan; started: number }>
  /** Stops starting requests and resolves once every worker has settled its last one. */
  stop(): Promise<void>
}

export interface LoadOptions {
  baseUrl: string
  connections: number
  /** Overall request starts per second at most (each worker paces itself to connections / rate). */
  ratePerSecond: number
  next: () => Plan
  onOutcome: (plan: Plan, outcome: Outcome) => void
}

/** Starts `connections` workers, each sending one request at a time. */
export function startLoadLoop(options: LoadOptions): LoadLoop {
  // FIFO: every one of the c sockets carries requests in turn. With the default LIFO a few sockets do all
  // the work and the rest sit idle past the server's keepAliveTimeout, inviting the client-side reuse race.
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, scheduling: 'fifo' })
  const pending = new Map<number, { plan: Plan; started: number }>()
  const intervalMs = (options.connections / options.ratePerSecond) * 1000
  let running = true
  let id = 0
  const worker = async (offset: number) => {
    let nextStart = performance.now() + offset
    while (running) {
      const wait = nextStart - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (!running) break
      nextStart = Math.max(nextStart + intervalMs, performance.now())
      const plan = options.next()
      const mine = id++
      pending.set(mine, { plan, started: performance.now() })
      const outcome = await send(agent, options.baseUrl, plan)
      pending.delete(mine)
      options.onOutcome(plan, outcome)
    }
  }
  const workers = Array.from({ length: options.connections }, (_, i) =>
    worker((i * intervalMs) / options.connections),
  )
  return {
    agent,
    pending,
    async stop() {
      running = false
      await Promise.all(workers)
      agent.destroy()
    },
  }
}
