// The emulator's HTTP(S) server: STS actions on `/`, loopback-only control endpoints under `/__`.
import { randomUUID } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { listen, urlHost } from '../net/listen.ts'
import { readBody, sendJson } from '../net/local-http.ts'
import { type AssumeRoleResponseBody, assumeRole } from './assume-role.ts'
import { authenticate, createNonceStore } from './authenticate.ts'
import { callAction, callParameters, parseStsCall, type StsCall } from './call.ts'
import { callerIdentity } from './caller-identity.ts'
import { createClock, type EmulatorClock } from './clock.ts'
import { type EmulatorConfig, type EmulatorConfigInput, parseEmulatorConfig } from './config.ts'
import { handleControl } from './control.ts'
import { type CallCounters, createCallCounters } from './counters.ts'
import { AlibabaError, errorBody, STS_ERRORS, type StsErrorCode, stsError } from './errors.ts'
import { createFaultController, type Fault, type FaultController } from './faults.ts'
import { createOssHandler } from './oss/server.ts'
import { createObjectStore, type ObjectStore } from './oss/store.ts'
import { MAX_BODY_BYTES, STS_JSON_HEADERS } from './respond.ts'
import { createMemorySessionStore, type SessionStore } from './sessions.ts'
import { createAccountThrottle } from './throttle.ts'
import { createSelfSignedCertificate } from './tls.ts'

export interface StartEmulatorOptions {
  /** Validated with parseEmulatorConfig (throws ConfigError). */
  config: EmulatorConfigInput
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: a free port. */
  port?: number
  /** The OSS side's port (design §10). Default 0: a free port. */
  ossPort?: number
  /**
   * Test hook for the OSS side: honour `x-emulator-source-ip` and `x-emulator-vpc-id` from loopback
   * peers (acs:SourceIp, and a request arriving from a VPC). Default false.
   */
  simulateNetwork?: boolean
  /**
   * Serve https with a self-signed certificate generated at start (needs the openssl command), valid
   * for 127.0.0.1, ::1, localhost and `<bucket or alias>.localhost` (virtual-host requests). `'oss'`:
   * the OSS side only, STS stays http (dev mode, whose service calls STS in-process).
   */
  tls?: boolean | 'oss'
  /** The base clock; POST /__clock shifts it. Default: the system clock. */
  now?: () => Date
}

/** A running emulator. */
export interface Emulator {
  /** e.g. `http://127.0.0.1:43127`. */
  stsUrl: string
  /** `host:port`, what `sts.endpoint` / the SDK's `endpoint` takes. */
  endpoint: string
  /** The OSS side, e.g. `http://127.0.0.1:43128` (https with tls). */
  ossUrl: string
  /** The OSS side's `host:port`. */
  ossEndpoint: string
  /** The OSS side's objects and multipart uploads. */
  objects: ObjectStore
  /** With tls: the certificate PEM file to pass as NODE_EXTRA_CA_CERTS; else null. */
  caPath: string | null
  config: EmulatorConfig
  sessions: SessionStore
  faults: FaultController
  counters: CallCounters
  clock: EmulatorClock
  /** Stops both listeners, drops open connections, cancels delayed answers, removes the certificate files. */
  close(): Promise<void>
}

const STS_VERSION = '2015-04-01'
/** The STS actions the emulator answers. */
const ACTIONS = new Set(['AssumeRole', 'GetCallerIdentity'])

function faultError(fault: Fault): AlibabaError {
  const known = (code: string): code is StsErrorCode => Object.hasOwn(STS_ERRORS, code)
  const code =
    fault.code ??
    (fault.kind === 'throttle' ? 'Throttling.User' : fault.kind === 'server_error' ? 'InternalError' : '')
  const status = fault.status ?? (fault.kind === 'throttle' ? 400 : 500)
  const message = known(code) ? STS_ERRORS[code].message : 'The request failed (injected fault).'
  const headers: Record<string, string> =
    fault.retryAfterMs === undefined ? {} : { 'x-acs-retry-after': String(fault.retryAfterMs) }
  return new AlibabaError(code, status, message, headers)
}

function mutateBody(fault: Fault | undefined, body: AssumeRoleResponseBody): unknown {
  if (fault?.kind === 'partial') {
    const { SecurityToken: _dropped, ...credentials } = body.Credentials
    return { ...body, Credentials: credentials }
  }
  if (fault?.kind === 'badExpiration')
    return { ...body, Credentials: { ...body.Credentials, Expiration: fault.expiration ?? 'not-a-date' } }
  if (fault?.kind === 'wrongRole') {
    const arn = body.AssumedRoleUser.Arn.replace(/:role\/[^/]+\//, ':role/another-role/')
    return { ...body, AssumedRoleUser: { ...body.AssumedRoleUser, Arn: arn } }
  }
  return body
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** The STS and OSS servers: https where `tls` says, with a certificate also valid for `<bucket or alias>.localhost`. */
async function createListeners(
  tls: StartEmulatorOptions['tls'],
  config: EmulatorConfig,
  handler: Handler,
  ossHandler: Handler,
) {
  const names = [...config.buckets.map((b) => b.name), ...config.accessPoints.map((ap) => ap.alias)]
  const certificate = tls ? await createSelfSignedCertificate(names.map((n) => `${n}.localhost`)) : null
  const listener = (h: Handler, secure: boolean) =>
    certificate && secure
      ? createHttpsServer({ key: certificate.key, cert: certificate.cert }, h)
      : createHttpServer(h)
  return { certificate, server: listener(handler, tls === true), ossServer: listener(ossHandler, true) }
}

/** What the STS side reads and writes while answering. */
interface StsContext {
  config: EmulatorConfig
  clock: EmulatorClock
  sessions: SessionStore
  faults: FaultController
  counters: CallCounters
  nonces: ReturnType<typeof createNonceStore>
  throttle: ReturnType<typeof createAccountThrottle>
  closing: AbortSignal
}

/** Answers one parsed STS call: the action's body, or throws AlibabaError. */
function dispatch(
  ctx: StsContext,
  call: StsCall,
  params: ReadonlyMap<string, string>,
  requestId: string,
  fault?: Fault,
) {
  const action = callAction(call, params)
  const version = call.headers['x-acs-version'] ?? params.get('Version')
  if (call.pathname !== '/' || !ACTIONS.has(action ?? '') || version !== STS_VERSION)
    throw stsError('InvalidAction.NotFound')
  const now = ctx.clock.now()
  const { config, sessions, nonces } = ctx
  const caller = authenticate(call, params, { config, sessions, nonces, now })
  const admitted = ctx.throttle.admit(caller.accountId, now)
  if (!admitted.ok) {
    // Alibaba's SDKs (openapi-core getThrottlingTimeLeft, darabonba's retry policy) read x-acs-retry-after
    // on throttling answers, in milliseconds; the emulator sends the time left in the current window.
    throw stsError('Throttling.User', undefined, { 'x-acs-retry-after': String(admitted.retryAfterMs) })
  }
  if (action === 'GetCallerIdentity') return callerIdentity(caller, requestId)
  const { body, session } = assumeRole(params, caller, { config, now, requestId })
  sessions.add(session)
  return mutateBody(fault, body)
}

/** Parses the request into a call and its parameters, or answers the error and returns undefined. */
function parseCall(
  ctx: StsContext,
  req: IncomingMessage,
  body: Buffer | null,
  fail: (err: AlibabaError) => void,
): { call: StsCall; params: Map<string, string> } | undefined {
  try {
    if (body === null) throw stsError('InvalidParameter', 'The request body is too large.')
    const call = parseStsCall(req.method ?? 'GET', req.url ?? '/', req.headers, body)
    return { call, params: callParameters(call) }
  } catch (err) {
    const finish = ctx.counters.begin('unknown', new Map())
    const error = err instanceof AlibabaError ? err : stsError('InternalError')
    fail(error)
    finish(error.code)
    return undefined
  }
}

/** Answers a fault that replaces the STS answer (reset, malformed); true when it did. */
function answeredByFault(
  fault: Fault | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  ids: Record<string, string>,
  finish: (outcome: string) => void,
): boolean {
  if (fault?.kind === 'reset') {
    req.socket.destroy()
    finish('reset')
    return true
  }
  if (fault?.kind === 'malformed') {
    res.writeHead(fault.status ?? 200, { ...ids, 'content-type': 'text/html' })
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
    finish('malformed')
    return true
  }
  return false
}

async function handleAction(ctx: StsContext, req: IncomingMessage, res: ServerResponse, body: Buffer | null) {
  const requestId = randomUUID().toUpperCase()
  const hostId = req.headers.host ?? 'sts.aliyuncs.com'
  const ids = { 'x-acs-request-id': requestId }
  const fail = (err: AlibabaError) =>
    sendJson(res, err.status, errorBody(err, requestId, hostId), {
      ...STS_JSON_HEADERS,
      ...ids,
      ...err.headers,
    })
  const parsed = parseCall(ctx, req, body, fail)
  if (!parsed) return
  const { call, params } = parsed
  const action = callAction(call, params) ?? 'unknown'
  const finish = ctx.counters.begin(action, params)
  // Injected faults are for the credential path: they hit AssumeRole only, so the service's identity
  // checks (GetCallerIdentity at start and in /readyz) never consume a fault a test queued.
  const fault = action === 'AssumeRole' ? ctx.faults.take() : undefined
  if (fault) ctx.counters.fault(fault.kind)
  try {
    if (answeredByFault(fault, req, res, ids, finish)) return
    if (fault?.kind === 'throttle' || fault?.kind === 'server_error' || fault?.kind === 'status')
      throw faultError(fault)
    if (fault?.kind === 'delay') await sleep(fault.delayMs ?? 0, undefined, { signal: ctx.closing })
    sendJson(res, 200, dispatch(ctx, call, params, requestId, fault), { ...STS_JSON_HEADERS, ...ids })
    finish('success')
  } catch (err) {
    if (ctx.closing.aborted) {
      finish('closed')
      return
    }
    const error = err instanceof AlibabaError ? err : stsError('InternalError')
    fail(error)
    finish(error.code)
  }
}

function stsHandler(ctx: StsContext): Handler {
  const { counters, faults, clock } = ctx
  return (req, res) => {
    readBody(req, MAX_BODY_BYTES)
      .then((body) =>
        (req.url ?? '').startsWith('/__')
          ? handleControl(req, res, body, { counters, faults, clock })
          : handleAction(ctx, req, res, body),
      )
      .catch(() => sendJson(res, 500, { error: 'emulator error' }))
  }
}

type Listeners = Awaited<ReturnType<typeof createListeners>>

function stopServer(s: Listeners['server']): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!s.listening) return resolve()
    s.close(() => resolve())
    s.closeAllConnections()
  })
}

/** Listens on both ports, or stops both and removes the certificate and throws the listen error. */
async function listenBoth(listeners: Listeners, options: StartEmulatorOptions, host: string): Promise<void> {
  const { certificate, server, ossServer } = listeners
  try {
    await listen(server, options.port ?? 0, host)
    await listen(ossServer, options.ossPort ?? 0, host)
  } catch (err) {
    await Promise.all([stopServer(server), stopServer(ossServer)])
    await certificate?.remove()
    throw err
  }
}

/**
 * Starts the STS emulator (design §10) and resolves once it listens. Throws ConfigError on an invalid
 * config, and the listen error (e.g. EADDRINUSE) when the port is taken.
 */
export async function startEmulator(options: StartEmulatorOptions): Promise<Emulator> {
  const config = parseEmulatorConfig(options.config)
  const closing = new AbortController()
  const ctx: StsContext = {
    config,
    clock: createClock(options.now),
    sessions: createMemorySessionStore(),
    faults: createFaultController(config.faults),
    counters: createCallCounters(),
    nonces: createNonceStore(),
    throttle: createAccountThrottle(config.throttle.perSecond),
    closing: closing.signal,
  }
  const { clock, sessions, faults, counters } = ctx
  const objects = createObjectStore()
  const ossHandler = createOssHandler({
    config,
    sessions,
    clock,
    store: objects,
    secure: options.tls === true || options.tls === 'oss',
    simulateNetwork: options.simulateNetwork === true,
    createdAt: clock.now(),
  })

  const listeners = await createListeners(options.tls, config, stsHandler(ctx), ossHandler)
  const { certificate, server, ossServer } = listeners
  const host = options.host ?? '127.0.0.1'
  await listenBoth(listeners, options, host)
  // A wildcard listener is reached on 127.0.0.1.
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const endpoint = urlHost(reachable, (server.address() as AddressInfo).port)
  const ossEndpoint = urlHost(reachable, (ossServer.address() as AddressInfo).port)
  const scheme = (secure: boolean) => (certificate && secure ? 'https' : 'http')
  let closed: Promise<void> | undefined
  return {
    stsUrl: `${scheme(options.tls === true)}://${endpoint}`,
    endpoint,
    ossUrl: `${scheme(true)}://${ossEndpoint}`,
    ossEndpoint,
    objects,
    caPath: certificate?.certPath ?? null,
    config,
    sessions,
    faults,
    counters,
    clock,
    close() {
      closed ??= (async () => {
        closing.abort()
        await Promise.all([stopServer(server), stopServer(ossServer)])
        await certificate?.remove()
      })()
      return closed
    },
  }
}
