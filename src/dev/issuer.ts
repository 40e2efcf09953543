// The dev OIDC issuer of `sts-vend dev`: fresh ES256 keys, discovery, JWKS and POST /dev/token, on loopback only.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import type { Logger } from '../logger.ts'
import { isLoopbackHost } from '../net/host.ts'
import { listen, urlHost } from '../net/listen.ts'
import { admitLocalRequest, methodNotAllowed, notFound, readBody, sendJson } from '../net/local-http.ts'
import { DEV_AUDIENCE } from './defaults.ts'

const ALG = 'ES256'
/** Registered claims the issuer sets itself; a caller may not override them. */
const RESERVED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp'] as const
const MAX_SUB_LENGTH = 256
/** The service refuses bearer tokens over 8 KiB, so larger claims could never be used. */
const MAX_CLAIMS_BYTES = 6 * 1024
const MAX_BODY_BYTES = 16 * 1024
/** A dev token's lifetime unless the request gives `ttlSeconds`. */
export const DEV_TOKEN_DEFAULT_TTL_SECONDS = 3600
/** The longest `ttlSeconds` a dev token may ask for (a day). */
export const DEV_TOKEN_MAX_TTL_SECONDS = 86_400

/** Why the dev issuer refused: a non-loopback host, or a bad `sub`, `claims` or `ttlSeconds`. */
export type DevIssuerErrorCode =
  | 'ERR_DEV_ISSUER_NOT_LOOPBACK'
  | 'ERR_DEV_TOKEN_SUB'
  | 'ERR_DEV_TOKEN_CLAIMS'
  | 'ERR_DEV_TOKEN_TTL'

/** A refused dev issuer option or token request; `code` says which. */
export class DevIssuerError extends Error {
  constructor(
    readonly code: DevIssuerErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'DevIssuerError'
  }
}

export interface DevIssuerOptions {
  /** A loopback host (127.0.0.0/8, ::1, localhost); anything else is refused. Default 127.0.0.1. */
  host?: string
  /** 0 (the default) picks a free port. */
  port?: number
  /** The `aud` of every token. Default `sts-vend`. */
  audience?: string
  /** The clock for `iat`/`exp`. */
  now?: () => Date
  logger?: Logger
}

export interface DevIssuer {
  /** The issuer URL (`iss`), e.g. `http://127.0.0.1:8788`, without a trailing slash. */
  issuer: string
  jwksUri: string
  audience: string
  port: number
  server: Server
  /**
   * Signs a token for `sub` with `claims` added, valid `ttlSeconds` (default 3600, at most 86400).
   * Throws DevIssuerError ERR_DEV_TOKEN_SUB, ERR_DEV_TOKEN_CLAIMS (not a JSON object, a reserved claim
   * iss/aud/sub/iat/exp, or over 6 KiB) or ERR_DEV_TOKEN_TTL.
   */
  mint(sub: string, claims?: Record<string, unknown>, ttlSeconds?: number): Promise<string>
  /**
   * Lets the page at `origin` (the dev service's web console) call `POST /dev/token` from a browser
   * (CORS, that one path). Throws DevIssuerError ERR_DEV_ISSUER_NOT_LOOPBACK unless `origin` is an
   * exact http(s) origin on a loopback host.
   */
  allowOrigin(origin: string): void
  close(): Promise<void>
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function assertTokenRequest(
  sub: unknown,
  claims: unknown,
  ttlSeconds: unknown,
): asserts claims is Record<string, unknown> {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH)
    throw new DevIssuerError(
      'ERR_DEV_TOKEN_SUB',
      `sub must be a non-empty string of at most ${MAX_SUB_LENGTH} characters`,
    )
  if (!isPlainObject(claims)) throw new DevIssuerError('ERR_DEV_TOKEN_CLAIMS', 'claims must be a JSON object')
  const reserved = RESERVED_CLAIMS.filter((name) => Object.hasOwn(claims, name))
  if (reserved.length > 0)
    throw new DevIssuerError(
      'ERR_DEV_TOKEN_CLAIMS',
      `claims may not set ${reserved.join(', ')}: the issuer sets them`,
    )
  let json: string | undefined
  try {
    json = JSON.stringify(claims)
  } catch {
    json = undefined
  }
  if (json === undefined) throw new DevIssuerError('ERR_DEV_TOKEN_CLAIMS', 'claims must be JSON values')
  if (Buffer.byteLength(json) > MAX_CLAIMS_BYTES)
    throw new DevIssuerError(
      'ERR_DEV_TOKEN_CLAIMS',
      `claims must be at most ${MAX_CLAIMS_BYTES} bytes of JSON`,
    )
  if (
    typeof ttlSeconds !== 'number' ||
    !Number.isInteger(ttlSeconds) ||
    ttlSeconds < 1 ||
    ttlSeconds > DEV_TOKEN_MAX_TTL_SECONDS
  )
    throw new DevIssuerError(
      'ERR_DEV_TOKEN_TTL',
      `ttlSeconds must be an integer from 1 to ${DEV_TOKEN_MAX_TTL_SECONDS}`,
    )
}

function isJsonRequest(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  return type === 'application/json'
}

/** Throws ERR_DEV_ISSUER_NOT_LOOPBACK unless `origin` is exactly an http(s) origin on a loopback host. */
function assertLoopbackOrigin(origin: string): void {
  let url: URL | undefined
  try {
    url = new URL(origin)
  } catch {
    url = undefined
  }
  if (
    !url ||
    url.origin !== origin ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    !isLoopbackHost(url.hostname)
  )
    throw new DevIssuerError(
      'ERR_DEV_ISSUER_NOT_LOOPBACK',
      `only a loopback origin may call the dev issuer from a browser, not ${JSON.stringify(origin)}`,
    )
}

type Mint = DevIssuer['mint']

interface IssuerRoutes {
  publicJwk: JWK
  discovery: Record<string, unknown>
  corsOrigins: ReadonlySet<string>
  mint: Mint
  logger?: DevIssuerOptions['logger']
}

/** CORS for `/dev/token` from an allowed origin; true when the request was a preflight, now answered. */
function answerCors(req: IncomingMessage, res: ServerResponse, corsOrigins: ReadonlySet<string>): boolean {
  const origin = req.headers.origin
  res.setHeader('vary', 'Origin')
  if (origin === undefined || !corsOrigins.has(origin)) return false
  res.setHeader('access-control-allow-origin', origin)
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] !== 'POST') return false
  res.writeHead(204, {
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'Content-Type',
    'access-control-max-age': '600',
  })
  res.end()
  return true
}

/** The JSON object body of a token request, or undefined once an error has been answered. */
async function readTokenRequest(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Record<string, unknown> | undefined> {
  const invalid = (status: number, description: string) => {
    sendJson(res, status, { error: 'invalid_request', error_description: description })
    return undefined
  }
  if (!isJsonRequest(req)) return invalid(415, 'send Content-Type: application/json')
  const bytes = await readBody(req, MAX_BODY_BYTES)
  if (bytes === null) return invalid(413, `body over ${MAX_BODY_BYTES} bytes`)
  let body: unknown
  try {
    body = JSON.parse(bytes.toString('utf8'))
  } catch {
    return invalid(400, 'body is not JSON')
  }
  if (!isPlainObject(body)) return invalid(400, 'body must be a JSON object')
  const unknown = Object.keys(body).filter((key) => !['sub', 'claims', 'ttlSeconds'].includes(key))
  if (unknown.length > 0) return invalid(400, `unknown field(s): ${unknown.join(', ')}`)
  return body
}

/** `POST /dev/token`: mints a token for `{sub, claims?, ttlSeconds?}`. */
async function handleTokenRoute(
  req: IncomingMessage,
  res: ServerResponse,
  routes: IssuerRoutes,
): Promise<void> {
  if (answerCors(req, res, routes.corsOrigins)) return
  if (req.method !== 'POST') return methodNotAllowed(res, ['POST'])
  const body = await readTokenRequest(req, res)
  if (!body) return
  const ttl = body['ttlSeconds'] ?? DEV_TOKEN_DEFAULT_TTL_SECONDS
  try {
    // mint() validates every field, whatever type the JSON gave it.
    const token = await routes.mint(
      body['sub'] as string,
      body['claims'] as Record<string, unknown>,
      ttl as number,
    )
    routes.logger?.info({ event: 'dev_issuer.minted', sub: body['sub'] }, 'dev token minted')
    return sendJson(res, 200, { token, expiresIn: ttl })
  } catch (err) {
    if (!(err instanceof DevIssuerError)) throw err
    return sendJson(res, 400, { error: 'invalid_request', code: err.code, error_description: err.message })
  }
}

/** Every route of the dev issuer, behind the loopback-peer and Host checks. */
function issuerHandler(routes: IssuerRoutes) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!admitLocalRequest(req, res)) return
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/.well-known/openid-configuration' || path === '/jwks.json') {
      if (req.method !== 'GET') return methodNotAllowed(res, ['GET'])
      return sendJson(res, 200, path === '/jwks.json' ? { keys: [routes.publicJwk] } : routes.discovery)
    }
    if (path !== '/dev/token') return notFound(res)
    return handleTokenRoute(req, res, routes)
  }
}

/**
 * Starts the dev issuer on a loopback address with a fresh ES256 key (never persisted). Only
 * `sts-vend dev` starts it; `serve` never imports src/dev (a test walks the import graph).
 * Answers 403 to any peer that is not loopback or whose Host header is a DNS name other than
 * localhost (DNS rebinding). Throws DevIssuerError ERR_DEV_ISSUER_NOT_LOOPBACK for another host,
 * and the listen error (e.g. EADDRINUSE) when the port is taken.
 */
export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const host = options.host ?? '127.0.0.1'
  if (!isLoopbackHost(host))
    throw new DevIssuerError(
      'ERR_DEV_ISSUER_NOT_LOOPBACK',
      `the dev issuer listens on loopback only, not ${host}`,
    )
  const audience = options.audience ?? DEV_AUDIENCE
  const now = options.now ?? (() => new Date())
  const { privateKey, publicKey } = await generateKeyPair(ALG)
  const kid = `dev-${randomUUID().slice(0, 8)}`
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' }

  const server = createServer()
  const port = await listen(server, options.port ?? 0, host)
  const issuer = `http://${urlHost(host, port)}`
  const jwksUri = `${issuer}/jwks.json`
  const mint: Mint = (sub, claims = {}, ttlSeconds = DEV_TOKEN_DEFAULT_TTL_SECONDS) =>
    signToken(privateKey, { kid, issuer, audience, now: now() }, sub, claims, ttlSeconds)
  const corsOrigins = new Set<string>()
  const discovery = {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ALG],
    claims_supported: ['iss', 'aud', 'sub', 'iat', 'exp'],
  }
  const handle = issuerHandler({ publicJwk, discovery, corsOrigins, mint, logger: options.logger })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      options.logger?.error({ event: 'dev_issuer.error', err }, 'dev issuer request failed')
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' })
      else res.destroy()
    })
  })

  return {
    issuer,
    jwksUri,
    audience,
    port,
    server,
    mint,
    allowOrigin: (origin) => {
      assertLoopbackOrigin(origin)
      corsOrigins.add(origin)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function signToken(
  key: CryptoKey,
  context: { kid: string; issuer: string; audience: string; now: Date },
  sub: string,
  claims: Record<string, unknown>,
  ttlSeconds: number,
): Promise<string> {
  assertTokenRequest(sub, claims, ttlSeconds)
  const iat = Math.floor(context.now.getTime() / 1000)
  // Copy into a null-prototype object: a "__proto__" claim from JSON stays an ordinary claim.
  const payload: Record<string, unknown> = Object.assign(Object.create(null), claims)
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALG, kid: context.kid, typ: 'JWT' })
    .setIssuer(context.issuer)
    .setAudience(context.audience)
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key)
}
