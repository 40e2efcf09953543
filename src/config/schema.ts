// The config schema of design §3: zod, strict objects (a typo must not silently disable a limit), documented defaults.
import { z } from 'zod'
import { isLoopbackHost } from '../net/host.ts'
import { ACCESS_PRESETS } from '../policies/actions.ts'

/** Asymmetric JWS algorithms an issuer may use. `none` and HS* are never accepted. */
export const JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

// The presets belong to the policy engine; the schema validates against its list.
export { ACCESS_PRESETS, type AccessPreset } from '../policies/actions.ts'

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const idSchema = z.string().regex(ID, 'must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit')
const positiveInt = z.number().int().positive()
const noTemplate = (what: string) =>
  z.string().refine((v) => !v.includes('${'), `template variables are not allowed in ${what}`)

function httpsUrl(what: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} must be an absolute URL` })
      return
    }
    if (url.protocol === 'https:') return
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return
    ctx.addIssue({ code: 'custom', message: `${what} must use https (http only on a loopback host)` })
  })
}

const originSchema = z.string().superRefine((value, ctx) => {
  if (value === '*') {
    ctx.addIssue({ code: 'custom', message: '"*" is refused: list exact origins' })
    return
  }
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || url.origin !== value || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    ctx.addIssue({
      code: 'custom',
      message: `must be an exact origin like https://app.example.com, got ${JSON.stringify(value)}`,
    })
  }
})

/**
 * Where `/metrics` is served (design §14): a separate listener (`listen`), and/or a bearer token required
 * wherever it is served. With neither, the main port has no `/metrics` unless `unauthenticated` (dev mode).
 */
const metricsSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
      })
      .optional(),
    bearerToken: z.string().min(16, 'must be at least 16 characters').optional(),
    bearerTokenFile: z.string().min(1).optional(),
    unauthenticated: z.boolean().default(false),
  })
  .superRefine((m, ctx) => {
    if (m.bearerToken !== undefined && m.bearerTokenFile !== undefined)
      ctx.addIssue({ code: 'custom', message: 'give bearerToken or bearerTokenFile, not both' })
    const token = m.bearerToken !== undefined || m.bearerTokenFile !== undefined
    if (m.unauthenticated && (token || m.listen !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['unauthenticated'],
        message:
          'unauthenticated opens /metrics on the main port: drop it when listen or a bearer token is set',
      })
  })

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  trustProxyHops: z
    .number({ error: 'must be a number of proxy hops (0 or more), never true' })
    .int()
    .min(0)
    .default(0),
  cors: z.strictObject({ origins: z.array(originSchema).default([]) }).default({ origins: [] }),
  bodyLimitBytes: positiveInt.default(16384),
  simulate: z.boolean().default(true),
  requestTimeoutMs: positiveInt.default(15000),
  metrics: metricsSchema.default({ unauthenticated: false }),
  /** This service's own base URL as clients reach it (https://sts.example.com); null: links are relative paths. */
  publicUrl: z
    .string()
    .regex(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, 'must be an http(s) URL without query or fragment')
    .nullable()
    .default(null),
})

const stsSchema = z.strictObject({
  endpoint: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:]+\](:\d{1,5})?$/, 'must be host[:port]')
    .default('sts.cn-hangzhou.aliyuncs.com'),
  protocol: z.enum(['https', 'http']).default('https'),
  region: z.string().min(1).default('cn-hangzhou'),
  connectTimeoutMs: positiveInt.default(2000),
  readTimeoutMs: positiveInt.default(5000),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  maxCallsPerSecond: positiveInt.default(80),
})

const windowSchema = (limit: number) =>
  z.strictObject({ limit: positiveInt.default(limit), windowSeconds: positiveInt.default(60) })

const limitsSchema = z.strictObject({
  store: z.enum(['memory', 'redis']).default('memory'),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  perIp: windowSchema(300).default({ limit: 300, windowSeconds: 60 }),
  perSubject: windowSchema(60).default({ limit: 60, windowSeconds: 60 }),
})

const fleetSchema = z.strictObject({
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  cacheKeyFile: z.string().min(1),
  expectedReplicas: positiveInt.default(3),
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1–64 of A–Z a–z 0–9 : . _ -')
    .default('sts-vend:fleet:'),
})

const cacheSchema = z.strictObject({
  maxEntries: positiveInt.default(10000),
  /**
   * One budget in MiB for every per-caller cache together (issue 22): split 30/40/30 among the verified
   * tokens, the credentials and the issued-credential index, each bounded by its share of estimated heap
   * bytes as well as by maxEntries. 64 leaves a 256 MiB container room for the runtime (~60 MiB), V8's
   * headroom over the live set, and requests in flight.
   */
  maxMemoryMiB: z.number().positive().max(65536).default(64),
  minRemainingSeconds: z
    .number()
    .int()
    .min(0)
    .max(899, 'must be < 900 (the shortest STS session)')
    .default(300),
})

const oidcIssuerSchema = z
  .strictObject({
    type: z.literal('oidc').default('oidc'),
    id: idSchema,
    issuer: httpsUrl('issuer'),
    audiences: z.array(z.string().min(1)).min(1, 'at least one audience is required'),
    jwksUri: httpsUrl('jwksUri').optional(),
    discovery: z.boolean().optional(),
    algorithms: z
      .array(
        z.string().superRefine((alg, ctx) => {
          if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
            ctx.addIssue({
              code: 'custom',
              message: `algorithm "${alg}" is refused: only asymmetric algorithms`,
            })
          } else if (!(JWS_ALGORITHMS as readonly string[]).includes(alg)) {
            ctx.addIssue({
              code: 'custom',
              message: `unknown algorithm "${alg}"; one of ${JWS_ALGORITHMS.join(', ')}`,
            })
          }
        }),
      )
      .min(1, 'at least one algorithm is required'),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    maxTokenAgeSeconds: positiveInt.optional(),
    typ: z.string().min(1).optional(),
  })
  .superRefine((issuer, ctx) => {
    const hasJwks = issuer.jwksUri !== undefined
    const hasDiscovery = issuer.discovery === true
    if (hasJwks === hasDiscovery) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of jwksUri or discovery: true',
        path: ['jwksUri'],
      })
    }
  })

/** A `host[:port]` endpoint, as `sts.endpoint` writes it. */
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:]+\](:\d{1,5})?$/, 'must be host[:port]')

/**
 * Alibaba workloads as callers (design §14, issue 21): they sign an STS GetCallerIdentity request that
 * names `audience` in a signed header; sts-vend forwards it to `stsEndpoint` (over `sts.protocol`).
 */
const alibabaIssuerSchema = z.strictObject({
  type: z.literal('alibaba-identity'),
  id: idSchema,
  audience: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9.:/_-]{0,254}$/,
      'must be 1-255 of [A-Za-z0-9.:/_-], starting with a letter or digit',
    ),
  accounts: z
    .array(z.string().regex(/^\d{16}$/, 'must be a 16-digit account id'))
    .min(1, 'at least one account is required'),
  stsEndpoint: hostPort,
})

// Alibaba first: the docs test reads the union's keys in order, and `type` defaults to oidc.
const issuerSchema = z.discriminatedUnion('type', [alibabaIssuerSchema, oidcIssuerSchema])

const scalar = z.union([z.string(), z.number(), z.boolean()])

const conditionSchema = z
  .strictObject({
    equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    contains: scalar.optional(),
    // An RE2 pattern: the policy engine compiles it at load and refuses what RE2 cannot run.
    matches: z.string().optional(),
    exists: z.boolean().optional(),
  })
  .refine(
    (c) => Object.values(c).some((v) => v !== undefined),
    'give one of equals, in, contains, matches, exists',
  )

const accessPointSchema = z.strictObject({
  name: noTemplate('accessPoint.name').pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,18}[a-z0-9]$/, 'must be an access point name (3-19 of a-z, 0-9, -)'),
  ),
  alias: noTemplate('accessPoint.alias').pipe(
    z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be an access point alias'),
  ),
  accountId: z.string().regex(/^\d{16}$/, 'must be a 16-digit account id'),
})

const ossSchema = z
  .strictObject({
    bucket: noTemplate('bucket')
      .pipe(
        z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a bucket name (3-63 of a-z, 0-9, -)'),
      )
      .optional(),
    accessPoint: accessPointSchema.optional(),
    region: z.string().regex(/^[a-z]{2,}-[a-z0-9-]+$/, 'must be a region id like cn-hangzhou'),
    endpoint: z.string().min(1).nullable().default(null),
    prefix: z.string().min(1),
    access: z.enum(ACCESS_PRESETS).optional(),
    actions: z
      .array(z.string().regex(/^oss:[A-Za-z]+$/, 'must be an oss:Action'))
      .min(1)
      .optional(),
  })
  .superRefine((oss, ctx) => {
    if ((oss.bucket === undefined) === (oss.accessPoint === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of bucket or accessPoint', path: ['bucket'] })
    }
    if ((oss.access === undefined) === (oss.actions === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of access (a preset) or actions',
        path: ['access'],
      })
    }
  })

const cidrSchema = z.string().superRefine((value, ctx) => {
  const [ip, bits, extra] = value.split('/')
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip ?? '')
  const okV4 = v4?.slice(1).every((o) => Number(o) <= 255)
  const okV6 = !okV4 && /^[0-9A-Fa-f:]+$/.test(ip ?? '') && (ip ?? '').includes(':')
  const max = okV4 ? 32 : 128
  const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max)
  if (!(okV4 || okV6) || !okBits || extra !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must be an IP address or CIDR, got ${JSON.stringify(value)}` })
  }
})

const ruleSchema = z.strictObject({
  id: idSchema,
  issuer: idSchema,
  selectable: z.boolean().default(false),
  when: z
    .record(z.string().regex(/^[^.\s][^\s]*$/, 'must be a claim name or dotted path'), conditionSchema)
    .default({}),
  roleArn: noTemplate('roleArn').pipe(
    z
      .string()
      .regex(/^acs:ram::\d{1,32}:role\/[A-Za-z0-9.@_-]{1,64}$/, 'must be acs:ram::<account>:role/<name>'),
  ),
  externalId: z.string().min(1).nullable().default(null),
  sessionName: z.string().min(1).default('${sub}'),
  // An RE2 pattern, compiled and checked by the policy engine at load.
  pattern: z.string().optional(),
  oss: ossSchema,
  conditions: z
    .strictObject({
      sourceIp: z.union([z.literal('request'), z.array(cidrSchema).min(1), z.null()]).default(null),
      secureTransport: z.boolean().default(true),
    })
    .default({ sourceIp: null, secureTransport: true }),
  durationSeconds: z
    .strictObject({
      default: z.number().int().min(900).max(43200).default(3600),
      max: z.number().int().min(900).max(43200, 'STS allows at most 43200 seconds').default(3600),
    })
    .default({ default: 3600, max: 3600 })
    .refine((d) => d.default <= d.max, 'default must not exceed max'),
})

const consoleSchema = z.strictObject({
  issuer: idSchema,
  clientId: z.string().min(1),
  scopes: z.array(z.string().min(1)).min(1).default(['openid', 'profile']),
})

/**
 * For a schema parsed once (the config, its defaults): zod v4 compiles an object schema's first parse
 * into a generated function (new Function), which pays for a schema parsed per request and only costs
 * at start for one parsed once (about 6 ms of CPU for the config). Request bodies keep the fast path.
 */
export const PARSE_ONCE = { jitless: true } as const

export const configSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({}, PARSE_ONCE)),
  sts: stsSchema.default(stsSchema.parse({}, PARSE_ONCE)),
  limits: limitsSchema.default(limitsSchema.parse({}, PARSE_ONCE)),
  cache: cacheSchema.default(cacheSchema.parse({}, PARSE_ONCE)),
  fleet: fleetSchema.optional(),
  issuers: z.array(issuerSchema).min(1, 'at least one issuer is required'),
  console: consoleSchema.optional(),
  rules: z.array(ruleSchema).min(1, 'at least one rule is required'),
  denylist: z.strictObject({ file: z.string().min(1) }).optional(),
})

export type Config = z.output<typeof configSchema>
/** Any configured issuer: an OIDC issuer or an Alibaba identity issuer. */
export type AnyIssuerConfig = Config['issuers'][number]
/** An OIDC issuer (`type: oidc`, the default, so it may be left out where one is built in code). */
export type IssuerConfig = Omit<Extract<AnyIssuerConfig, { type: 'oidc' }>, 'type'> & { type?: 'oidc' }
/** An issuer of Alibaba workloads signing GetCallerIdentity (`type: alibaba-identity`). */
export type AlibabaIssuerConfig = Extract<AnyIssuerConfig, { type: 'alibaba-identity' }>
export type RuleConfig = Config['rules'][number]
export type ConditionConfig = RuleConfig['when'][string]
export type OssConfig = RuleConfig['oss']

/**
 * What a verified Caller's `issuer` holds for callers of this issuer: an OIDC issuer's exact `iss`;
 * for an Alibaba identity issuer, `alibaba-identity:<audience>` (its audience is unique among them).
 */
export function issuerUrl(issuer: AnyIssuerConfig): string {
  return issuer.type === 'alibaba-identity' ? `alibaba-identity:${issuer.audience}` : issuer.issuer
}

/** The OIDC issuers of a config, in order. */
export function oidcIssuers(issuers: readonly AnyIssuerConfig[]): IssuerConfig[] {
  return issuers.filter((i): i is Extract<AnyIssuerConfig, { type: 'oidc' }> => i.type === 'oidc')
}

export { isLoopbackHost }
