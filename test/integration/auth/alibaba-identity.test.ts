// Alibaba workloads as callers (issue 21): a GetCallerIdentity signed by the real SDK signer, verified through
// the emulator's STS; every hostile case refused, the ones caught before STS never reaching it.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeAlibabaCredential, MAX_ALIBABA_CREDENTIAL_BYTES } from '../../../src/auth/alibaba-request.ts'
import { createAlibabaVerifier } from '../../../src/auth/alibaba-verifier.ts'
import { createTokenVerifier, MemoryNonceStore } from '../../../src/auth/index.ts'
import type { AlibabaIssuerConfig } from '../../../src/config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEV_ACCESS_KEY,
  DEV_ROOT_ACCESS_KEY,
  type Emulator,
  PARTNER_ACCESS_KEY,
  PARTNER_ROOT_ACCESS_KEY,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { acs3Signature, acs3StringToSign, sha256Hex } from '../../../src/emulator/signature-acs3.ts'
import { InvalidToken, UpstreamUnavailable } from '../../../src/errors.ts'
import { signCallerIdentity } from '../../../src/sts/alibaba-client.ts'
import { sdkAssumeRole, sdkClient, staticCredential } from '../../fixtures/emulator-sdk.ts'
import { timestamp } from '../../fixtures/emulator-signer.ts'
import { deadPort } from '../../fixtures/ports.ts'

const AUDIENCE = 'sts-vend.test'
const PARTNER = '1000000000000002'
let emulator: Emulator
let issuer: AlibabaIssuerConfig

beforeAll(async () => {
  emulator = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG })
  issuer = {
    type: 'alibaba-identity',
    id: 'alicloud',
    audience: AUDIENCE,
    accounts: [PARTNER],
    stsEndpoint: emulator.endpoint,
  }
})
afterAll(() => emulator.close())

const verifier = (now?: () => Date) =>
  createAlibabaVerifier([issuer], { protocol: 'http', timeoutMs: 2000, ...(now ? { now } : {}) })

/** The SDK-signed credential for `key`, as `sts-vend login-alibaba` prints it (without the scheme). */
async function login(key: { id: string; secret: string }, audience = AUDIENCE, endpoint = emulator.endpoint) {
  const credential = staticCredential({ accessKeyId: key.id, secret: key.secret })
  return encodeAlibabaCredential(await signCallerIdentity({ audience, endpoint, credential }))
}

/** A hand-signed request: anything the SDK would never send, still validly signed. */
function handSigned(change: {
  action?: string
  date?: Date
  query?: Record<string, string>
  audience?: string
}) {
  const headers: Record<string, string> = {
    host: emulator.endpoint,
    'x-acs-action': change.action ?? 'GetCallerIdentity',
    'x-acs-version': '2015-04-01',
    'x-acs-date': timestamp(change.date ?? new Date()),
    'x-acs-signature-nonce': randomUUID().replaceAll('-', ''),
    'x-acs-content-sha256': sha256Hex(''),
    'x-acs-sts-vend-audience': change.audience ?? AUDIENCE,
  }
  const signed = Object.keys(headers).sort()
  const call = {
    method: 'POST',
    pathname: '/',
    query: Object.entries(change.query ?? {}),
    form: [],
    headers,
    body: Buffer.alloc(0),
  }
  const { stringToSign } = acs3StringToSign(call, signed)
  headers['authorization'] =
    `ACS3-HMAC-SHA256 Credential=${PARTNER_ACCESS_KEY.id},SignedHeaders=${signed.join(';')},Signature=${acs3Signature(stringToSign, PARTNER_ACCESS_KEY.secret)}`
  return Buffer.from(JSON.stringify({ method: 'POST', headers, query: change.query ?? {} })).toString(
    'base64url',
  )
}

function edit(
  credential: string,
  change: (wire: { headers: Record<string, string> } & Record<string, unknown>) => void,
) {
  const wire = JSON.parse(Buffer.from(credential, 'base64url').toString('utf8'))
  change(wire)
  return Buffer.from(JSON.stringify(wire)).toString('base64url')
}

const stsCalls = () => emulator.counters.snapshot().requests

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => {
      throw new Error('expected a refusal, the login was accepted')
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InvalidToken)
  expect((err as InvalidToken).presented).toBe(true)
  return String((err as InvalidToken).reason)
}

/** A refusal made before any request reached STS (and so before any AssumeRole could be made). */
async function refusedBeforeSts(credential: string, v = verifier()): Promise<string> {
  const before = emulator.counters.snapshot()
  const reason = await refusal(v.verify(credential))
  expect(stsCalls()).toBe(before.requests)
  expect(emulator.counters.snapshot().assumeRoleCalls).toBe(before.assumeRoleCalls)
  return reason
}

describe('Alibaba identity login, accepted', () => {
  it('when a partner RAM user signs with the SDK signer, then the caller is its ARN with alibaba.* claims', async () => {
    const caller = await verifier().verify(await login(PARTNER_ACCESS_KEY))
    expect(caller.subject).toBe(`acs:ram::${PARTNER}:user/partner-admin`)
    expect(caller.issuerId).toBe('alicloud')
    expect(caller.issuer).toBe(`alibaba-identity:${AUDIENCE}`)
    expect(caller.claims['alibaba']).toMatchObject({
      accountId: PARTNER,
      arn: `acs:ram::${PARTNER}:user/partner-admin`,
      identityType: 'RAMUser',
      userName: 'partner-admin',
    })
    expect(Object.isFrozen(caller.claims['alibaba'])).toBe(true)
  })

  it('when a role session (STS credentials) signs, then identityType is AssumedRoleUser with roleName and sessionName', async () => {
    const dev = { accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }
    const assumed = await sdkAssumeRole(sdkClient(emulator.endpoint, dev), {
      roleArn: 'acs:ram::1000000000000001:role/oss-app-user',
      roleSessionName: 'ecs-worker-7',
      policy: JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: '*' }],
      }),
    })
    expect(assumed.ok).toBe(true)
    const creds = (assumed as { body: { credentials?: Record<string, string> } }).body.credentials ?? {}
    const credential = staticCredential({
      accessKeyId: creds['accessKeyId'] ?? '',
      secret: creds['accessKeySecret'] ?? '',
      securityToken: creds['securityToken'] ?? '',
    })
    const signed = await signCallerIdentity({ audience: AUDIENCE, endpoint: emulator.endpoint, credential })
    expect(signed.headers['x-acs-security-token']).toBeTruthy()
    const v = createAlibabaVerifier([{ ...issuer, accounts: ['1000000000000001'] }], { protocol: 'http' })
    const caller = await v.verify(encodeAlibabaCredential(signed))
    expect(caller.subject).toBe('acs:ram::1000000000000001:assumed-role/oss-app-user/ecs-worker-7')
    expect(caller.claims['alibaba']).toMatchObject({
      identityType: 'AssumedRoleUser',
      roleName: 'oss-app-user',
      sessionName: 'ecs-worker-7',
      accountId: '1000000000000001',
    })
  })

  it('when the token verifier gets "AlibabaIdentity <credential>", then it takes this path; Bearer stays OIDC', async () => {
    const tv = createTokenVerifier([issuer], { stsProtocol: 'http' })
    const caller = await tv.verify([`AlibabaIdentity ${await login(PARTNER_ACCESS_KEY)}`])
    expect(caller.claims['alibaba']).toMatchObject({ accountId: PARTNER })
    const bearer = await tv.verify(['Bearer a.b.c']).catch((e: unknown) => e)
    expect(bearer).toBeInstanceOf(InvalidToken)
    expect((bearer as InvalidToken).reason).not.toMatch(/^alibaba_/)
  })

  it('when no alibaba-identity issuer is configured, then the scheme is refused like any non-Bearer one', async () => {
    const tv = createTokenVerifier([])
    await expect(tv.verify([`AlibabaIdentity ${await login(PARTNER_ACCESS_KEY)}`])).rejects.toMatchObject({
      presented: false,
    })
  })
})

describe('Alibaba identity login, hostile cases (none reaches AssumeRole)', () => {
  it('when a signed header value is tampered with, then STS refuses the signature: 401', async () => {
    const tampered = edit(await login(PARTNER_ACCESS_KEY), (w) => {
      w.headers['x-acs-signature-nonce'] = randomUUID().replaceAll('-', '')
    })
    const before = emulator.counters.snapshot().assumeRoleCalls
    expect(await refusal(verifier().verify(tampered))).toMatch(/^alibaba_sts_refused_/)
    expect(emulator.counters.snapshot().assumeRoleCalls).toBe(before)
  })

  it('when the signed date is more than 15 minutes old, then it is stale: 401 before STS', async () => {
    const credential = await login(PARTNER_ACCESS_KEY)
    const later = () => new Date(Date.now() + 16 * 60 * 1000)
    expect(await refusedBeforeSts(credential, verifier(later))).toBe('alibaba_stale_date')
    expect(await refusedBeforeSts(handSigned({ date: new Date(Date.now() - 16 * 60 * 1000) }))).toBe(
      'alibaba_stale_date',
    )
  })

  it('when the same signed request is presented twice, then the replay is 401 before STS', async () => {
    const v = verifier()
    const credential = await login(PARTNER_ACCESS_KEY)
    await v.verify(credential)
    expect(await refusedBeforeSts(credential, v)).toBe('alibaba_replayed_nonce')
  })

  it('when the config is reloaded (a new verifier on the same nonce store), then a spent header stays spent', async () => {
    const alibabaNonces = new MemoryNonceStore()
    const header = `AlibabaIdentity ${await login(PARTNER_ACCESS_KEY)}`
    await createTokenVerifier([issuer], { stsProtocol: 'http', alibabaNonces }).verify([header])
    const reloaded = createTokenVerifier([issuer], { stsProtocol: 'http', alibabaNonces })
    await expect(reloaded.verify([header])).rejects.toMatchObject({ reason: 'alibaba_replayed_nonce' })
  })

  it('when the request was signed for another audience, then it is 401 before STS', async () => {
    expect(await refusedBeforeSts(await login(PARTNER_ACCESS_KEY, 'other-service.example.com'))).toBe(
      'alibaba_unknown_audience',
    )
  })

  it('when the audience header is swapped for ours after signing, then STS refuses the signature: 401', async () => {
    const moved = edit(await login(PARTNER_ACCESS_KEY, 'other-service.example.com'), (w) => {
      w.headers['x-acs-sts-vend-audience'] = AUDIENCE
    })
    expect(await refusal(verifier().verify(moved))).toMatch(/^alibaba_sts_refused_/)
  })

  it('when the audience header is stripped or left unsigned, then it is 401 before STS', async () => {
    const stripped = edit(await login(PARTNER_ACCESS_KEY), (w) => {
      delete w.headers['x-acs-sts-vend-audience']
    })
    expect(await refusedBeforeSts(stripped)).toBe('alibaba_missing_x-acs-sts-vend-audience')
    const unsigned = edit(await login(PARTNER_ACCESS_KEY), (w) => {
      w.headers['authorization'] = (w.headers['authorization'] ?? '').replace(';x-acs-sts-vend-audience', '')
    })
    expect(await refusedBeforeSts(unsigned)).toBe('alibaba_unsigned_x-acs-sts-vend-audience')
  })

  it('when the request is signed for another endpoint (host), then it is 401 and never sent there', async () => {
    const elsewhere = await login(PARTNER_ACCESS_KEY, AUDIENCE, 'sts.attacker.example:443')
    expect(await refusedBeforeSts(elsewhere)).toBe('alibaba_host_not_sts_endpoint')
  })

  it('when the signed action is AssumeRole (smuggled), then it is 401 before STS', async () => {
    const smuggled = handSigned({
      action: 'AssumeRole',
      query: { RoleArn: 'acs:ram::1000000000000001:role/oss-app-user', RoleSessionName: 'x' },
    })
    expect(await refusedBeforeSts(smuggled)).toBe('alibaba_parameters_not_allowed')
    expect(await refusedBeforeSts(handSigned({ action: 'AssumeRole' }))).toBe(
      'alibaba_action_not_getcalleridentity',
    )
  })

  it('when the action is GetCallerIdentity but parameters ride along, then it is not GetCallerIdentity: 401', async () => {
    expect(await refusedBeforeSts(handSigned({ query: { Action: 'AssumeRole' } }))).toBe(
      'alibaba_parameters_not_allowed',
    )
    const body = edit(await login(PARTNER_ACCESS_KEY), (w) => {
      w['body'] = 'Action=AssumeRole'
    })
    expect(await refusedBeforeSts(body)).toBe('alibaba_parameters_not_allowed')
  })

  it('when the signature is a root account key, then it is 401', async () => {
    expect(await refusal(verifier().verify(await login(PARTNER_ROOT_ACCESS_KEY)))).toBe(
      'alibaba_root_account',
    )
  })

  it('when the account is not on the issuer list, then it is 401', async () => {
    expect(await refusal(verifier().verify(await login(DEV_ACCESS_KEY)))).toBe('alibaba_account_not_listed')
    expect(await refusal(verifier().verify(await login(DEV_ROOT_ACCESS_KEY)))).toBe('alibaba_root_account')
  })

  it('when the header is larger than 8 KiB, then it is 401 before decoding or STS', async () => {
    const big = edit(await login(PARTNER_ACCESS_KEY), (w) => {
      w.headers['user-agent'] = 'x'.repeat(MAX_ALIBABA_CREDENTIAL_BYTES)
    })
    expect(await refusedBeforeSts(big)).toBe('alibaba_credential_too_large')
  })

  it('when STS is unreachable, then it is 503 upstream_unavailable', async () => {
    const endpoint = `127.0.0.1:${await deadPort()}`
    const v = createAlibabaVerifier([{ ...issuer, stsEndpoint: endpoint }], {
      protocol: 'http',
      timeoutMs: 500,
    })
    const err = await v.verify(await login(PARTNER_ACCESS_KEY, AUDIENCE, endpoint)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamUnavailable)
    expect((err as UpstreamUnavailable).reason).toMatch(/^alibaba_sts_unreachable_/)
  })

  it('when STS answers 5xx, then it is 503; the nonce stays spent', async () => {
    // The emulator injects faults into AssumeRole only: a server that answers 500 stands in for STS here.
    const failing = createServer((_, res) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"Code":"InternalError"}')
    })
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r))
    const endpoint = `127.0.0.1:${(failing.address() as AddressInfo).port}`
    try {
      const v = createAlibabaVerifier([{ ...issuer, stsEndpoint: endpoint }], { protocol: 'http' })
      const credential = await login(PARTNER_ACCESS_KEY, AUDIENCE, endpoint)
      const err = await v.verify(credential).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UpstreamUnavailable)
      expect((err as UpstreamUnavailable).reason).toBe('alibaba_sts_status_500')
      expect(await refusal(v.verify(credential))).toBe('alibaba_replayed_nonce')
    } finally {
      await new Promise<void>((r) => failing.close(() => r()))
    }
  })
})
