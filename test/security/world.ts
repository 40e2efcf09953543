// The security suite's world (security-cases §0): keys, JWKS stubs, the STS emulator and the real app wired to them.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: rule templates (${sub}) are data here, not JS templates.
import { generateKeyPairSync, sign as nodeSign, randomUUID } from 'node:crypto'
import type { JWK, JWTPayload } from 'jose'
import request from 'supertest'
import { createApp } from '../../src/app.ts'
import { type Config, loadConfig } from '../../src/config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  type Emulator,
  PARTNER_EXTERNAL_ID,
  startEmulator,
} from '../../src/emulator/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { type Adapters, buildAdapters } from '../../src/server.ts'
import { type AlibabaStsClientOptions, createAlibabaStsClient } from '../../src/sts/index.ts'
import type { StsClient } from '../../src/types.ts'
import { staticCredential } from '../fixtures/emulator-sdk.ts'
import { b64u, signingInput } from '../fixtures/forge.ts'
import { generateTestKey, goodClaims, jwksOf, mintToken, type TestKey } from '../fixtures/issuer.ts'
import { type JwksStub, startJwksStub } from '../fixtures/jwks-server.ts'
import { corpIssuer } from '../fixtures/rules.ts'

export const CORP = 'https://id.example.test/'
export const PARTNER = 'https://partner.example.test/'
/** An issuer that requires `typ: at+jwt` (SEC-023); it serves corp's keys. */
export const AT_CORP = 'https://at.example.test/'
/** An issuer whose only algorithm is EdDSA (SEC-041). */
export const ED = 'https://ed.example.test/'

export interface Keys {
  rs1: TestKey
  es1: TestKey
  /** The key corp rotates to (SEC-029); not published until a test does. */
  rs2: TestKey
  /** partner's own `rs1`: same kid, different key (SEC-025). */
  partnerRs1: TestKey
  /** A kid only partner publishes (SEC-025). */
  partnerOnly: TestKey
  /** `kE`: the attacker's ES256 key, in no configured JWKS. */
  attacker: TestKey
  /** An Ed25519 key published by corp (SEC-041: not an allowed algorithm there) and by the ed issuer. */
  ed25519: TestKey
  /** An Ed448 key pair published by the ed issuer (jose 6 no longer verifies Ed448). */
  ed448: { kid: string; publicJwk: JWK; privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'] }
}

export interface World {
  keys: Keys
  corp: JwksStub
  partner: JwksStub
  ed: JwksStub
  /** The attacker's server (x5u, jku, redirects): it must never be contacted. */
  evil: JwksStub
  emulator: Emulator
  /** Requests every JWKS/discovery stub received, the attacker's included. */
  jwksTotal(): number
  /** The `good` payload of §0 for `iss` (default corp), issued now, with overrides (undefined removes). */
  good(overrides?: Record<string, unknown>, iss?: string): JWTPayload
  /** Signs `claims` (default good()) with `key` (default rs1), header merged over {alg, kid, typ: JWT}. */
  sign(claims?: JWTPayload, header?: Record<string, unknown>, key?: TestKey): Promise<string>
  /** Signs exact header/payload bytes with Ed448 (jose cannot). */
  signEd448(header: Record<string, unknown>, payload: JWTPayload): string
  close(): Promise<void>
}

/** Starts the keys, the three issuers' stubs, the attacker's server and the STS emulator (all 127.0.0.1, port 0). */
export async function startWorld(): Promise<World> {
  const [rs1, es1, rs2, partnerRs1, partnerOnly, attacker, ed25519] = await Promise.all([
    generateTestKey('RS256', 'rs1'),
    generateTestKey('ES256', 'es1'),
    generateTestKey('RS256', 'rs2'),
    generateTestKey('RS256', 'rs1'),
    generateTestKey('RS256', 'p2'),
    generateTestKey('ES256', 'kE'),
    generateTestKey('EdDSA', 'ed1'),
  ])
  const pair = generateKeyPairSync('ed448')
  const ed448 = {
    kid: 'ed448',
    privateKey: pair.privateKey,
    publicJwk: {
      ...(pair.publicKey.export({ format: 'jwk' }) as JWK),
      kid: 'ed448',
      alg: 'EdDSA',
      use: 'sig',
    },
  }
  const keys: Keys = { rs1, es1, rs2, partnerRs1, partnerOnly, attacker, ed25519, ed448 }
  const [corp, partner, ed, evil, emulator] = await Promise.all([
    startJwksStub({ keys: [...jwksOf(rs1, es1).keys, ed25519.publicJwk] }),
    startJwksStub({ keys: jwksOf(partnerRs1, partnerOnly).keys }),
    startJwksStub({ keys: [ed25519.publicJwk, ed448.publicJwk] }),
    startJwksStub({ keys: jwksOf(attacker).keys }),
    startEmulator({ config: DEFAULT_EMULATOR_CONFIG }),
  ])
  return {
    keys,
    corp,
    partner,
    ed,
    evil,
    emulator,
    jwksTotal: () => corp.total() + partner.total() + ed.total() + evil.total(),
    good: (overrides = {}, iss = CORP) => goodClaims(iss, new Date(), overrides),
    sign: (claims, header = {}, key = rs1) => mintToken(key, claims ?? goodClaims(CORP, new Date()), header),
    signEd448(header, payload) {
      const input = signingInput({ alg: 'EdDSA', typ: 'JWT', kid: 'ed448', ...header }, payload)
      return `${input}.${b64u(nodeSign(null, Buffer.from(input), ed448.privateKey))}`
    },
    close: async () => {
      await Promise.all([corp.close(), partner.close(), ed.close(), evil.close(), emulator.close()])
    },
  }
}

/** A raw config document as the cases edit it (nested fields of any shape). */
// biome-ignore lint/suspicious/noExplicitAny: cases reach into and rewrite arbitrary config fields.
export type ConfigDoc = Record<string, any>

/** A raw config document: the baseline of §0 plus the rules the template, HTTP and upstream cases need. */
export function securityConfigDoc(world: World): ConfigDoc {
  const appUser = DEFAULT_ROLE_ARNS.appUser
  const rule = (id: string, fields: Record<string, unknown>, oss: Record<string, unknown> = {}) => ({
    id,
    issuer: 'corp',
    roleArn: appUser,
    sessionName: `${id}-\${sub}`,
    durationSeconds: { default: 3600, max: 3600 },
    ...fields,
    oss: { bucket: 'examplebucket', region: 'cn-hangzhou', access: 'read-write', ...oss },
  })
  return {
    server: { cors: { origins: ['https://app.example.test'] } },
    sts: {
      endpoint: world.emulator.endpoint,
      protocol: 'http',
      // Generous: the emulator answers in this process, behind up to 200 concurrent requests on a loaded
      // runner; a timeout here would be a failure the case did not inject (and could open the breaker).
      // The cases about timeouts set their own.
      connectTimeoutMs: 5000,
      readTimeoutMs: 10_000,
      maxAttempts: 3,
    },
    // The shared app runs thousands of requests; the DoS cases build apps with the default budgets.
    limits: {
      perIp: { limit: 1_000_000, windowSeconds: 60 },
      perSubject: { limit: 1_000_000, windowSeconds: 60 },
    },
    issuers: [
      corpIssuer(
        { issuer: CORP, jwksUri: world.corp.jwksUri },
        { algorithms: ['RS256', 'ES256'], clockToleranceSeconds: 30, maxTokenAgeSeconds: 3600 },
      ),
      {
        id: 'partner',
        issuer: PARTNER,
        audiences: ['sts-vend'],
        jwksUri: world.partner.jwksUri,
        algorithms: ['RS256'],
      },
      {
        id: 'atcorp',
        issuer: AT_CORP,
        audiences: ['sts-vend'],
        jwksUri: world.corp.jwksUri,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      },
      { id: 'ed', issuer: ED, audiences: ['sts-vend'], jwksUri: world.ed.jwksUri, algorithms: ['EdDSA'] },
    ],
    rules: [
      {
        // The first corp rule: naming it skips no earlier rule (design §14), so callers may ask for it.
        ...rule('app-users', {
          selectable: true,
          when: { groups: { contains: 'photo-app' } },
          sessionName: 'app-${sub}',
        }),
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'users/${sub}/',
          access: 'read-write',
        },
      },
      rule('teams', { when: { groups: { contains: 'team-app' } } }, { prefix: 'teams/${claim.team}/' }),
      rule(
        'mail',
        { when: { groups: { contains: 'mail-app' } }, sessionName: '${claim.email}' },
        { prefix: 'mail/${sub}/' },
      ),
      rule('dept', { when: { 'dept.name': { equals: 'photo' } } }, { prefix: 'dept/${sub}/' }),
      rule('matcher', { when: { role: { matches: 'admin|ops' } } }, { prefix: 'ops/${sub}/' }),
      rule('admins', { when: { groups: { contains: 'admins' } } }, { prefix: 'admin/${sub}/' }),
      rule(
        'ip-bound',
        { when: { groups: { contains: 'ip-app' } }, conditions: { sourceIp: 'request' } },
        { prefix: 'ip/${sub}/' },
      ),
      {
        id: 'broker',
        issuer: 'corp',
        when: { groups: { contains: 'broker' } },
        roleArn: DEFAULT_ROLE_ARNS.partner,
        externalId: '${claim.tenant}',
        sessionName: 'broker-${sub}',
        oss: {
          bucket: 'partnerbucket',
          region: 'cn-hangzhou',
          prefix: 'ingest/${sub}/',
          actions: ['oss:PutObject'],
        },
        durationSeconds: { default: 900, max: 3600 },
      },
      rule(
        'partner-users',
        { issuer: 'partner', when: { groups: { contains: 'partner-app' } } },
        {
          prefix: 'partner/${sub}/',
        },
      ),
      rule('at-users', { issuer: 'atcorp' }, { prefix: 'at/${sub}/' }),
      rule('ed-users', { issuer: 'ed' }, { prefix: 'ed/${sub}/' }),
    ],
  }
}

/** The ExternalId the emulator's partner role trusts: the `tenant` claim a broker caller must carry. */
export const GOOD_TENANT = PARTNER_EXTERNAL_ID

export interface SecApp {
  app: ReturnType<typeof createApp>
  config: Config
  adapters: Adapters
  lines: Record<string, unknown>[]
  raw: string[]
  agent(): request.Agent
  close(): Promise<void>
}

export interface AppOptions {
  /** Edits the raw config document before it is loaded. */
  patch?: (doc: ConfigDoc) => void
  /** Replaces the STS client (default: the real Alibaba SDK client pointed at the emulator). */
  stsClient?: StsClient
  /** Options of the real client (retry, breaker). */
  client?: Partial<AlibabaStsClientOptions>
  /** Verify one corp token first, so corp's keys are cached and a case's JWKS delta starts at 0. Default true. */
  warm?: boolean
}

/** The real Alibaba SDK client against the world's emulator, signing with the service's own key. */
export function emulatorClient(
  config: Config,
  logger: AlibabaStsClientOptions['logger'],
  options: Partial<AlibabaStsClientOptions> = {},
): StsClient {
  return createAlibabaStsClient({
    sts: config.sts,
    logger,
    credential: staticCredential({ accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }),
    retry: { baseDelayMs: 10, maxDelayMs: 40 },
    ...options,
  })
}

/** Builds the real app (buildAdapters + createApp) on the world, logging into memory. */
export async function buildSecApp(world: World, options: AppOptions = {}): Promise<SecApp> {
  const doc = securityConfigDoc(world)
  options.patch?.(doc)
  const config = loadConfig(doc)
  const { logger, lines, raw } = createCapturingLogger('info')
  const sts = options.stsClient ?? emulatorClient(config, logger, options.client)
  const adapters = await buildAdapters(config, logger, sts)
  const app = createApp(adapters.deps)
  if (options.warm ?? true) await adapters.deps.verifier.verify([`Bearer ${await world.sign()}`])
  return {
    app,
    config,
    adapters,
    lines,
    raw,
    agent: () => request.agent(app),
    close: () => adapters.close(),
  }
}

/** A random subject from the safe alphabet, so a case never meets another's cached credentials. */
export function freshSub(prefix = 'u'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`
}
