// The OSS side's request handler: route, authenticate, identify, authorize, run; OSS XML errors with request ids.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { isLoopbackHost } from '../../net/host.ts'
import { readBody } from '../../net/local-http.ts'
import type { EmulatorClock } from '../clock.ts'
import type { EmulatorConfig } from '../config.ts'
import type { SessionStore } from '../sessions.ts'
import type { OssAnswer } from './answer.ts'
import { authenticateOss, type OssCaller } from './authenticate.ts'
import { authorizeOss, type OssAuthorization, type OssNetwork } from './authorize.ts'
import { OssError } from './errors.ts'
import { runOperation } from './handlers.ts'
import { identifyOperation, type OssOperation } from './operations.ts'
import { authenticatePostObject, readPostForm } from './post-object.ts'
import { header, MAX_BODY_BYTES, type OssRequest, parseTarget } from './request.ts'
import { type OssTarget, resolveTarget, sourceTarget, withKey } from './routing.ts'
import type { ObjectStore } from './store.ts'
import { errorXml } from './xml.ts'

export interface OssHandlerDeps {
  config: EmulatorConfig
  sessions: SessionStore
  clock: EmulatorClock
  store: ObjectStore
  /** True on the TLS listener: the only place `acs:SecureTransport` is true. */
  secure: boolean
  /**
   * Honour the test headers `x-emulator-source-ip` (replaces `acs:SourceIp`) and `x-emulator-vpc-id`
   * (the request arrives from that VPC), from loopback peers only. Off by default.
   */
  simulateNetwork: boolean
  createdAt: Date
}

/** The test header naming the address a request should be treated as coming from. */
export const SOURCE_IP_HEADER = 'x-emulator-source-ip'
/** The test header naming the VPC a request should be treated as arriving from. */
export const VPC_ID_HEADER = 'x-emulator-vpc-id'

const VPC_ID = /^vpc-[a-z0-9]{1,64}$/

const peerAddress = (req: IncomingMessage) => (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')

function networkOf(req: IncomingMessage, deps: OssHandlerDeps): OssNetwork {
  const peer = peerAddress(req)
  const network: OssNetwork = { sourceIp: peer, secureTransport: deps.secure, vpcId: null }
  // The simulation headers are a test hook: only a loopback peer of an emulator started for it may steer them.
  if (!deps.simulateNetwork || !isLoopbackHost(peer)) return network
  const sourceIp = header(req.headers, SOURCE_IP_HEADER)
  if (sourceIp !== undefined) {
    if (isIP(sourceIp) === 0)
      throw new OssError('InvalidArgument', `${SOURCE_IP_HEADER} must be an IP address.`)
    network.sourceIp = sourceIp
  }
  const vpcId = header(req.headers, VPC_ID_HEADER)
  if (vpcId !== undefined) {
    if (!VPC_ID.test(vpcId))
      throw new OssError('InvalidArgument', `${VPC_ID_HEADER} must look like vpc-xxxx.`)
    network.vpcId = vpcId
  }
  return network
}

function hostId(req: IncomingMessage): string {
  return header(req.headers, 'host')?.replace(/:\d+$/, '') ?? 'oss.aliyuncs.com'
}

function send(res: ServerResponse, answer: OssAnswer, common: Record<string, string>, head: boolean): void {
  if (res.headersSent || res.destroyed) return
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body
  const headers: Record<string, string> = { ...common, ...answer.headers }
  headers['content-length'] ??= String(body.length)
  res.writeHead(answer.status, headers)
  res.end(head ? undefined : body)
}

function errorAnswer(error: OssError, requestId: string, req: IncomingMessage): OssAnswer {
  const body = errorXml(error, requestId, hostId(req))
  // OSS answers a HEAD error without a body and puts the base64 XML in x-oss-err (ali-oss reads it).
  const extra: Record<string, string> =
    req.method === 'HEAD' ? { 'x-oss-err': Buffer.from(body, 'utf8').toString('base64') } : {}
  // AppendObject's position error tells the client where the object ends, as OSS does.
  const next = error.fields['NextAppendPosition']
  if (next !== undefined) extra['x-oss-next-append-position'] = next
  return {
    status: error.status,
    headers: { 'content-type': 'application/xml', ...extra },
    body: req.method === 'HEAD' ? '' : body,
  }
}

function deny(action: string, decision: OssAuthorization): OssError {
  return new OssError('AccessDenied', `You are not authorized to do ${action}: ${decision.reason}.`)
}

/**
 * Every (resource, action) the request needs, as OSS checks them: the operation's action, the extra
 * actions on the same object (oss:PutObjectTagging for `x-oss-tagging`), oss:GetObject on a
 * CopyObject source. DeleteMultipleObjects is checked key by key in its handler instead.
 */
function authorizeRequest(
  authorize: (target: OssTarget, action: string) => OssAuthorization,
  target: OssTarget,
  operation: OssOperation,
  source: OssTarget | null,
): void {
  if (operation.name === 'DeleteMultipleObjects') return
  const checks: [OssTarget, string][] = [[target, operation.action]]
  for (const action of operation.extraActions ?? []) checks.push([target, action])
  if (source) checks.push([source, 'oss:GetObject'])
  for (const [where, action] of checks) {
    const decision = authorize(where, action)
    if (!decision.allowed) throw deny(action, decision)
  }
}

async function answer(req: IncomingMessage, deps: OssHandlerDeps): Promise<OssAnswer> {
  const body = await readBody(req, MAX_BODY_BYTES)
  if (body === null) throw new OssError('EntityTooLarge')
  const { path, query } = parseTarget(req.url ?? '/')
  let target = resolveTarget(deps.config, path, header(req.headers, 'host'))
  if (!target) throw new OssError('NotImplemented', 'The emulator does not implement service-level calls.')
  const request: OssRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, body }
  const now = deps.clock.now()
  const auth = { config: deps.config, sessions: deps.sessions, now }
  const operation = identifyOperation(request, target)
  let caller: OssCaller
  if (operation.name === 'PostObject') {
    request.form = await readPostForm(request)
    caller = authenticatePostObject(request.form, target, auth)
    target = withKey(target, request.form.key)
  } else caller = authenticateOss(request, target, auth)
  const network = networkOf(req, deps)
  const authorize = (where: OssTarget, action: string) =>
    authorizeOss(deps.config, caller, where, { ...operation, action }, network)
  const copy = operation.copySource
  const source = copy ? sourceTarget(deps.config, copy.bucket, copy.key) : null
  authorizeRequest(authorize, target, operation, source)
  const scheme = deps.secure ? 'https' : 'http'
  return runOperation(
    {
      store: deps.store,
      now,
      createdAt: deps.createdAt,
      baseUrl: `${scheme}://${header(req.headers, 'host') ?? ''}`,
      authorize,
      source,
    },
    target,
    operation,
    request,
  )
}

/**
 * The OSS side's HTTP handler. Every answer carries `x-oss-request-id` (24 upper-case hex digits, as
 * OSS's) and `Server: AliyunOSS`; failures answer OSS's `<Error>` XML with that id.
 */
export function createOssHandler(deps: OssHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = randomBytes(12).toString('hex').toUpperCase()
    const common = {
      'x-oss-request-id': requestId,
      server: 'AliyunOSS',
      date: deps.clock.now().toUTCString(),
    }
    const head = req.method === 'HEAD'
    answer(req, deps)
      .then((result) => send(res, result, common, head))
      .catch((err: unknown) => {
        const error = err instanceof OssError ? err : new OssError('InternalError')
        send(res, errorAnswer(error, requestId, req), common, head)
      })
  }
}
