// A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:<port>`: forces
// GC, reads process.memoryUsage() and takes heap snapshots in the child, never in the bench process.

export interface Inspector {
  /** Sends one CDP command and resolves with its result. */
  send(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>
  /** Collects garbage until the heap stops shrinking, then resolves with process.memoryUsage(). */
  settledMemory(): Promise<NodeJS.MemoryUsage>
  /** Takes a heap snapshot (it collects garbage first) and resolves with its JSON. */
  heapSnapshot(): Promise<HeapSnapshot>
  close(): void
}

export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/** Connects to the inspector listening on `port` (polls until the child has opened it). */
export async function connectInspector(port: number, timeoutMs = 20_000): Promise<Inspector> {
  if (typeof WebSocket !== 'function')
    throw new Error(
      `the inspector client needs the global WebSocket of Node 22 or newer; this is Node ${process.version}`,
    )
  const deadline = Date.now() + timeoutMs
  let url: string | undefined
  while (!url) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
        webSocketDebuggerUrl: string
      }[]
      url = list[0]?.webSocketDebuggerUrl
    } catch {
      if (Date.now() > deadline) throw new Error(`no inspector on port ${port}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const socket = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true })
    socket.addEventListener('error', () => reject(new Error('inspector socket failed')), { once: true })
  })
  let nextId = 1
  const pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >()
  let chunks: string[] | null = null
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number
      method?: string
      params?: { chunk?: string }
      result?: Record<string, unknown>
      error?: { message: string }
    }
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks?.push(message.params?.chunk ?? '')
    if (message.id === undefined) return
    const waiter = pending.get(message.id)
    pending.delete(message.id)
    if (message.error) waiter?.reject(new Error(message.error.message))
    else waiter?.resolve(message.result ?? {})
  })
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      socket.send(JSON.stringify({ id, method, params }))
    })
  const memory = async () => {
    const { result } = (await send('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } }
    return JSON.parse(result.value) as NodeJS.MemoryUsage
  }
  return {
    send,
    async settledMemory() {
      let last = Number.POSITIVE_INFINITY
      for (let i = 0; i < 10; i++) {
        await send('HeapProfiler.collectGarbage')
        await new Promise((r) => setTimeout(r, 50))
        const used = (await memory()).heapUsed
        if (used >= last * 0.999) break
        last = used
      }
      return memory()
    },
    async heapSnapshot() {
      chunks = []
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false })
      const text = chunks.join('')
      chunks = null
      return JSON.parse(text) as HeapSnapshot
    },
    close: () => socket.close(),
  }
}

/** Self size by node type and name ("object:Map", "string", "closure:…") and the total of the snapshot. */
export function selfSizes(snapshot: HeapSnapshot): { total: number; byKind: Map<string, number> } {
  const fields = snapshot.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = snapshot.snapshot.meta.node_types[0]
  const byKind = new Map<string, number>()
  let total = 0
  const { nodes, strings } = snapshot
  for (let i = 0; i < nodes.length; i += width) {
    const size = nodes[i + sizeAt] as number
    const type = types[nodes[i + typeAt] as number] ?? 'unknown'
    // Strings, numbers and code are grouped by type; objects, arrays and closures by their constructor.
    const grouped = type === 'object' || type === 'closure' || type === 'native'
    const kind = grouped ? `${type}:${strings[nodes[i + nameAt] as number]}` : type
    byKind.set(kind, (byKind.get(kind) ?? 0) + size)
    total += size
  }
  return { total, byKind }
}
