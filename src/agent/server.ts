// The agent's loopback HTTP server: GET /credentials (credentials URI) and the ECS metadata paths, from one cache.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { formatExpiration } from '../formats/time.ts'
import type { Logger } from '../logger.ts'
import { isLoopbackHost } from '../net/host.ts'
import { listen, urlHost } from '../net/listen.ts'
import { admitLocalRequest, methodNotAllowed, notFound, sendJson, sendText } from '../net/local-http.ts'
import { type AgentCredentials, type CredentialSource, createCredentialSource } from './credential-source.ts'
import { AgentOptionError, RefreshError } from './errors.ts'

/** The role name the ECS metadata paths list unless --role-name says otherwise (design §6.1). */
export const AGENT_DEFAULT_ROLE_NAME = 'sts-vend'
/** The paths the agent serves: the credentials URI, the ECS role list (and role), the IMDSv2 token. */
export const CREDENTIALS_PATH = '/credentials'
export const ECS_ROLES_PATH = '/latest/meta-data/ram/security-credentials/'
export const ECS_TOKEN_PATH = '/latest/api/token'
/** The IMDSv2 token TTL header and its bounds on ECS. */
const ECS_TOKEN_TTL_HEADER = 'x-aliyun-ecs-metadata-token-ttl-seconds'
const ECS_TOKEN_MAX_TTL_SECONDS = 21_600
/** ECS RAM role names: 1-64 of letters, digits, `.`, `_`, `-`. */
const ROLE_NAME = /^[A-Za-z0-9._-]{1,64}$/

export interface AgentOptions {
  /** sts-vend's base URL: https, or http on a loopback host (or anywhere with `allowHttp`). */
  server: string
  tokenFile: string
  /** `--alibaba-identity`: a fresh `AlibabaIdentity …` header per request instead of the token file. */
  authorization?: (() => Promise<string>) | undefined
  /** A loopback host; anything else is refused. Default 127.0.0.1. */
  host?: string
  /** 0 (the default) picks a free port. */
  port?: number
  /** The one role name the ECS metadata paths list. Default `sts-vend`. */
  roleName?: string
  rule?: string | undefined
  prefix?: string | undefined
  access?: string | undefined
  /** Send the token to a non-loopback sts-vend over plain http (e.g. inside a service mesh that adds TLS). */
  allowHttp?: boolean
  logger: Logger
  timeoutMs?: number
  now?: () => Date
  fetch?: typeof fetch
}

export interface RunningAgent {
  /** e.g. `http://127.0.0.1:41234`; the credentials URI is `${url}/credentials`. */
  url: string
  port: number
  server: Server
  source: CredentialSource
  close(): Promise<void>
}

/** Throws AgentOptionError unless the options can work. */
export function assertAgentOptions(
  options: Pick<AgentOptions, 'server' | 'host' | 'roleName' | 'rule' | 'prefix' | 'access' | 'allowHttp'>,
): void {
  const host = options.host ?? '127.0.0.1'
  if (!isLoopbackHost(host)) throw new AgentOptionError(`--host must be a loopback address, not ${host}`)
  let server: URL
  try {
    server = new URL(options.server)
  } catch {
    throw new AgentOptionError(`--server must be an absolute URL, got ${JSON.stringify(options.server)}`)
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:')
    throw new AgentOptionError('--server must be an http(s) URL')
  if (server.username || server.password || server.search || server.hash)
    throw new AgentOptionError('--server must not carry credentials, a query or a fragment')
  if (server.protocol === 'http:' && !isLoopbackHost(server.hostname) && options.allowHttp !== true)
    throw new AgentOptionError(
      '--server uses plain http to a non-loopback host: the token would cross the network in clear; use https (or --allow-http)',
    )
  const roleName = options.roleName ?? AGENT_DEFAULT_ROLE_NAME
  if (!ROLE_NAME.test(roleName))
    throw new AgentOptionError('--role-name must be 1-64 of letters, digits, . _ -')
  for (const name of ['rule', 'prefix', 'access'] as const) {
    if (options[name] === '') throw new AgentOptionError(`--${name} must not be empty`)
  }
}

function credentialsUriBody(c: AgentCredentials) {
  return {
    Code: 'Success',
    AccessKeyId: c.accessKeyId,
    AccessKeySecret: c.accessKeySecret,
    SecurityToken: c.securityToken,
    Expiration: formatExpiration(c.expiration),
  }
}

function ecsBody(c: AgentCredentials) {
  return { ...credentialsUriBody(c), LastUpdated: formatExpiration(c.fetchedAt) }
}

function unavailable(res: ServerResponse, err: unknown, logger: Logger): void {
  if (!(err instanceof RefreshError)) {
    logger.error({ event: 'agent.error', err }, 'agent request failed')
    sendJson(res, 500, { error: 'server_error' })
    return
  }
  logger.warn(
    {
      event: 'agent.unavailable',
      reason: err.reason,
      status: err.upstreamStatus,
      upstreamError: err.upstreamError,
    },
    'no valid credentials to serve',
  )
  sendJson(
    res,
    503,
    {
      error: err.reason === 'token_file_unreadable' ? 'token_file_unreadable' : 'upstream_unavailable',
      error_description: err.message,
    },
    { 'retry-after': '1' },
  )
}

/** What a request needs: the one credential cache, the role name the ECS paths list, the logger. */
interface AgentContext {
  source: CredentialSource
  roleName: string
  logger: Logger
}

async function serveCredentials(
  ctx: AgentContext,
  res: ServerResponse,
  shape: (c: AgentCredentials) => object,
): Promise<void> {
  let credentials: AgentCredentials
  try {
    credentials = await ctx.source.get()
  } catch (err) {
    return unavailable(res, err, ctx.logger)
  }
  sendJson(res, 200, shape(credentials))
}

/** PUT /latest/api/token: an IMDSv2 token for the asked TTL. */
function answerToken(req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'PUT') return methodNotAllowed(res, ['PUT'])
  const ttl = Number(req.headers[ECS_TOKEN_TTL_HEADER])
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > ECS_TOKEN_MAX_TTL_SECONDS)
    return sendJson(res, 400, {
      error: 'invalid_request',
      error_description: `${ECS_TOKEN_TTL_HEADER} must be 1-${ECS_TOKEN_MAX_TTL_SECONDS}`,
    })
  // The token is answered for IMDSv2 clients and not checked afterwards: GET /credentials is open to
  // the same loopback peers, so checking it would add no protection.
  return sendText(res, 200, randomBytes(32).toString('base64url'), {
    [ECS_TOKEN_TTL_HEADER]: String(ttl),
  })
}

/** GET /latest/meta-data/ram/security-credentials/<name>: the credentials, for the agent's one role name. */
function answerRole(ctx: AgentContext, req: IncomingMessage, res: ServerResponse, path: string) {
  if (req.method !== 'GET') return methodNotAllowed(res, ['GET'])
  let name: string
  try {
    name = decodeURIComponent(path.slice(ECS_ROLES_PATH.length))
  } catch {
    return notFound(res)
  }
  if (name !== ctx.roleName) return notFound(res)
  return serveCredentials(ctx, res, ecsBody)
}

async function handle(ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!admitLocalRequest(req, res)) return
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (path === CREDENTIALS_PATH) {
    if (req.method !== 'GET') return methodNotAllowed(res, ['GET'])
    return serveCredentials(ctx, res, credentialsUriBody)
  }
  if (path === ECS_TOKEN_PATH) return answerToken(req, res)
  if (path === ECS_ROLES_PATH || path === ECS_ROLES_PATH.slice(0, -1)) {
    if (req.method !== 'GET') return methodNotAllowed(res, ['GET'])
    return sendText(res, 200, ctx.roleName)
  }
  if (path.startsWith(ECS_ROLES_PATH)) return answerRole(ctx, req, res, path)
  return notFound(res)
}

/**
 * Starts the agent on a loopback address. Every request from a non-loopback peer, or with a Host
 * header naming a DNS name other than localhost (DNS rebinding), is answered 403. Throws
 * AgentOptionError for unusable options, and the listen error (e.g. EADDRINUSE).
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  assertAgentOptions(options)
  const host = options.host ?? '127.0.0.1'
  const roleName = options.roleName ?? AGENT_DEFAULT_ROLE_NAME
  const { logger } = options
  const source = createCredentialSource({
    server: options.server,
    tokenFile: options.tokenFile,
    authorization: options.authorization,
    rule: options.rule,
    prefix: options.prefix,
    access: options.access,
    logger,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.fetch !== undefined && { fetch: options.fetch }),
  })
  const ctx: AgentContext = { source, roleName, logger }
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      logger.error({ event: 'agent.error', err }, 'agent request failed')
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' })
      else res.destroy()
    })
  })
  const port = await listen(server, options.port ?? 0, host)
  const url = `http://${urlHost(host, port)}`
  logger.info({ event: 'agent.listening', url, roleName }, 'agent listening')
  return {
    url,
    port,
    server,
    source,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
