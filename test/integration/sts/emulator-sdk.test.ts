// The unmodified @alicloud/sts20150401 client against the emulator: both signers, role chaining, Alibaba's codes, replay.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  type Emulator,
  PARTNER_ACCESS_KEY,
  PARTNER_EXTERNAL_ID,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { CHAIN_HOP_ARN, CHAIN_POLICY, chainingEmulatorConfig } from '../../fixtures/chain-config.ts'
import { StsModule, sdkAssumeRole, sdkClient, startCaptureServer } from '../../fixtures/emulator-sdk.ts'
import { send } from '../../fixtures/emulator-signer.ts'

// Characters the SDK's query encoding and the signature's RFC 3986 encoding treat differently.
const policy = JSON.stringify({
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['oss:GetObject', 'oss:PutObject'],
      Resource: ["acs:oss:*:*:examplebucket/users/al ice!'()*~é/*"],
    },
  ],
})
const dev = { accessKeyId: DEV_ACCESS_KEY.id, secret: DEV_ACCESS_KEY.secret }
const ask = { roleArn: DEFAULT_ROLE_ARNS.appUser, roleSessionName: 'alice', policy, durationSeconds: 900 }

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ config: chainingEmulatorConfig() })
})
afterAll(() => emulator.close())
beforeEach(() => {
  emulator.faults.clear()
  emulator.clock.setOffsetSeconds(0)
})

describe.each([
  ['ACS3-HMAC-SHA256 (the default signer)', false],
  ['RPC HMAC-SHA1 (signatureAlgorithm v2)', true],
])('the SDK with %s', (_, rpc) => {
  it('when it assumes a trusted role, then it gets real-shaped credentials and the emulator remembers the session', async () => {
    const result = await sdkAssumeRole(sdkClient(emulator.endpoint, dev, { rpc }), ask)
    if (!result.ok) throw new Error(`unexpected ${result.code}`)
    const c = result.body.credentials!
    expect(c.accessKeyId).toMatch(/^STS\./)
    expect(c.expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(result.body.assumedRoleUser?.arn).toBe(`${ask.roleArn}/alice`)
    expect(result.body.requestId).toMatch(/^[0-9A-F-]{36}$/)
    expect(emulator.sessions.get(c.accessKeyId!)).toMatchObject({ policy, roleName: 'oss-app-user' })
  })

  it('when the issued STS credentials assume the cross-account role with its ExternalId, then role chaining works', async () => {
    const hop = { ...ask, roleArn: CHAIN_HOP_ARN, policy: CHAIN_POLICY }
    const first = await sdkAssumeRole(sdkClient(emulator.endpoint, dev, { rpc }), hop)
    if (!first.ok) throw new Error(`unexpected ${first.code}`)
    const c = first.body.credentials!
    const chained = sdkClient(
      emulator.endpoint,
      { accessKeyId: c.accessKeyId!, secret: c.accessKeySecret!, securityToken: c.securityToken! },
      { rpc },
    )
    const second = await sdkAssumeRole(chained, {
      ...ask,
      roleArn: DEFAULT_ROLE_ARNS.partner,
      externalId: PARTNER_EXTERNAL_ID,
    })
    expect(second.ok).toBe(true)
  })

  it.each<[string, string, number, () => Parameters<typeof sdkAssumeRole>]>([
    [
      'a wrong AccessKey id',
      'InvalidAccessKeyId.NotFound',
      404,
      () => [sdkClient(emulator.endpoint, { ...dev, accessKeyId: 'LTAIunknownKey99' }, { rpc }), ask],
    ],
    [
      'a wrong secret',
      'SignatureDoesNotMatch',
      400,
      () => [sdkClient(emulator.endpoint, { ...dev, secret: 'wrongSecret01' }, { rpc }), ask],
    ],
    [
      'an untrusted caller',
      'NoPermission',
      403,
      () => [
        sdkClient(
          emulator.endpoint,
          { accessKeyId: PARTNER_ACCESS_KEY.id, secret: PARTNER_ACCESS_KEY.secret },
          { rpc },
        ),
        ask,
      ],
    ],
    [
      'an unknown role',
      'EntityNotExist.Role',
      404,
      () => [
        sdkClient(emulator.endpoint, dev, { rpc }),
        { ...ask, roleArn: 'acs:ram::1000000000000001:role/missing' },
      ],
    ],
    [
      'the cross-account role without ExternalId',
      'NoPermission',
      403,
      () => [sdkClient(emulator.endpoint, dev, { rpc }), { ...ask, roleArn: DEFAULT_ROLE_ARNS.partner }],
    ],
    [
      'the cross-account role with a wrong ExternalId',
      'NoPermission',
      403,
      () => [
        sdkClient(emulator.endpoint, dev, { rpc }),
        { ...ask, roleArn: DEFAULT_ROLE_ARNS.partner, externalId: 'wrong-external-id' },
      ],
    ],
    [
      'a one-character session name',
      'InvalidParameter.RoleSessionName',
      400,
      () => [sdkClient(emulator.endpoint, dev, { rpc }), { ...ask, roleSessionName: 'a' }],
    ],
    [
      'a policy of 2049 characters',
      'InvalidParameter.PolicySize',
      400,
      () => [
        sdkClient(emulator.endpoint, dev, { rpc }),
        { ...ask, policy: policy.replace('users/', `users/${'x'.repeat(2049 - policy.length)}`) },
      ],
    ],
    [
      'a policy outside the grammar',
      'InvalidParameter.PolicyGrammar',
      400,
      () => [
        sdkClient(emulator.endpoint, dev, { rpc }),
        { ...ask, policy: '{"Version":"1","Statement":[{"Effect":"Maybe"}]}' },
      ],
    ],
    [
      'a duration above the role max',
      'InvalidParameter.DurationSeconds',
      400,
      () => [sdkClient(emulator.endpoint, dev, { rpc }), { ...ask, durationSeconds: 3601 }],
    ],
    [
      'a duration below 900',
      'InvalidParameter.DurationSeconds',
      400,
      () => [sdkClient(emulator.endpoint, dev, { rpc }), { ...ask, durationSeconds: 899 }],
    ],
    [
      'an ExternalId with a space',
      'InvalidParameter.ExternalId',
      400,
      () => [sdkClient(emulator.endpoint, dev, { rpc }), { ...ask, externalId: 'a b' }],
    ],
  ])('when it calls with %s, then the SDK throws %s (%i)', async (_, code, status, args) => {
    const result = await sdkAssumeRole(...args())
    expect(result).toMatchObject({ ok: false, code, statusCode: status, name: 'ClientError' })
  })

  it('when the emulator clock is 20 minutes ahead, then the SDK throws InvalidTimeStamp.Expired', async () => {
    emulator.clock.setOffsetSeconds(1200)
    const result = await sdkAssumeRole(sdkClient(emulator.endpoint, dev, { rpc }), ask)
    expect(result).toMatchObject({ ok: false, code: 'InvalidTimeStamp.Expired', statusCode: 400 })
  })

  it('when a throttle fault carries a retry-after, then the SDK throws ThrottlingError with retryAfter', async () => {
    emulator.faults.add([{ kind: 'throttle', retryAfterMs: 1234 }])
    const client = sdkClient(emulator.endpoint, dev, { rpc })
    const err = await client.assumeRole(new StsModule.AssumeRoleRequest(ask)).catch((e: unknown) => e)
    expect(err).toMatchObject({
      name: 'ThrottlingError',
      code: 'Throttling.User',
      statusCode: 400,
      retryAfter: 1234,
    })
  })
})

describe('requests the SDK signed, replayed', () => {
  async function captureOne(rpc: boolean) {
    const capture = await startCaptureServer()
    try {
      await sdkAssumeRole(sdkClient(capture.endpoint, dev, { rpc }), ask)
      const req = capture.captured[0]
      if (!req) throw new Error('nothing captured')
      return req
    } finally {
      await capture.close()
    }
  }

  it.each([
    ['ACS3', false],
    ['RPC', true],
  ])(
    'when a captured %s request is sent twice, then the first succeeds and the replay gets SignatureNonceUsed',
    async (_, rpc) => {
      const req = await captureOne(rpc)
      const first = await send(emulator.stsUrl, req)
      expect(first.status).toBe(200)
      const replay = await send(emulator.stsUrl, req)
      expect([replay.status, replay.json?.['Code']]).toEqual([400, 'SignatureNonceUsed'])
    },
  )

  it.each([
    ['ACS3', false],
    ['RPC', true],
  ])(
    'when the Policy of a captured %s request is tampered with, then SignatureDoesNotMatch',
    async (_, rpc) => {
      const req = await captureOne(rpc)
      const tampered = { ...req, path: req.path.replace('oss%3AGetObject', 'oss%3ADeleteObject') }
      expect(tampered.path).not.toBe(req.path)
      const res = await send(emulator.stsUrl, tampered)
      expect([res.status, res.json?.['Code']]).toEqual([400, 'SignatureDoesNotMatch'])
    },
  )

  it('when a captured request arrives 16 minutes later, then InvalidTimeStamp.Expired', async () => {
    const req = await captureOne(false)
    emulator.clock.setOffsetSeconds(16 * 60)
    const res = await send(emulator.stsUrl, req)
    expect([res.status, res.json?.['Code']]).toEqual([400, 'InvalidTimeStamp.Expired'])
  })

  it('when the SDK signs, then it signs host, the x-acs- headers and the content hash, as the emulator requires', async () => {
    const req = await captureOne(false)
    expect(req.headers['authorization']).toMatch(
      /^ACS3-HMAC-SHA256 Credential=LTAIexampleKeyId01,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=[0-9a-f]{64}$/,
    )
  })
})
