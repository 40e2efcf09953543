// The loopback-only control endpoints under /__: counters, fault queue, clock offset.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { isLoopbackPeer, isSafeHostHeader } from '../net/host.ts'
import { sendJson } from '../net/local-http.ts'
import type { EmulatorClock } from './clock.ts'
import type { CallCounters } from './counters.ts'
import type { FaultController } from './faults.ts'

export interface ControlDeps {
  counters: CallCounters
  faults: FaultController
  clock: EmulatorClock
}

const clockBody = z.strictObject({ offsetSeconds: z.number().finite() })

/** `POST /__faults` takes one fault, a list, or `{"faults": [...]}`. */
function faultList(value: unknown): unknown {
  if (Array.isArray(value)) return value
  if (value !== null && typeof value === 'object' && 'faults' in value)
    return (value as { faults: unknown }).faults
  return [value]
}

function route(req: IncomingMessage, res: ServerResponse, body: Buffer | null, deps: ControlDeps): void {
  const { counters, faults, clock } = deps
  const json = (): unknown => JSON.parse(body?.toString('utf8') || 'null')
  const clockState = () => ({ offsetSeconds: clock.offsetSeconds(), now: clock.now().toISOString() })
  const name = `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`
  const answers: Record<string, () => unknown> = {
    'GET /__counters': () => counters.snapshot(),
    'GET /__stats': () => counters.snapshot(),
    'DELETE /__counters': () => {
      counters.reset()
      return counters.snapshot()
    },
    'GET /__faults': () => ({ pending: faults.pending() }),
    'POST /__faults': () => {
      faults.add(z.array(z.unknown()).parse(faultList(json())) as never)
      return { pending: faults.pending() }
    },
    'DELETE /__faults': () => {
      faults.clear()
      return { pending: [] }
    },
    'GET /__clock': clockState,
    'POST /__clock': () => {
      clock.setOffsetSeconds(clockBody.parse(json()).offsetSeconds)
      return clockState()
    },
  }
  const answer = Object.hasOwn(answers, name) ? answers[name] : undefined
  if (answer) sendJson(res, 200, answer())
  else sendJson(res, 404, { error: `no control endpoint ${name}` })
}

/**
 * Serves a control request. Only loopback callers whose Host header is an IP literal or `localhost` are
 * answered (403 otherwise): an emulator bound to a wider address cannot be steered from the network, nor
 * by a web page that reaches it through DNS rebinding (its Host is the page's name). Invalid JSON or
 * values answer 400 with the problems.
 */
export function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
  deps: ControlDeps,
): void {
  if (!isLoopbackPeer(req.socket.remoteAddress) || !isSafeHostHeader(req.headers.host)) {
    sendJson(res, 403, { error: 'control endpoints answer on loopback only' })
    return
  }
  try {
    route(req, res, body, deps)
  } catch (err) {
    if (!(err instanceof SyntaxError || err instanceof z.ZodError)) throw err
    sendJson(res, 400, {
      error: 'invalid control request',
      ...(err instanceof z.ZodError
        ? { problems: err.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }
        : {}),
    })
  }
}
