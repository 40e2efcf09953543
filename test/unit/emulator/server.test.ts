import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  accountTrustPolicy,
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  DEV_ROOT_ACCESS_KEY,
  type Emulator,
  type EmulatorConfigInput,
  startEmulator,
} from '../../../src/emulator/index.ts'
import { control, type RawRequest, send, signAcs3, signRpc } from '../../fixtures/emulator-signer.ts'

const policy = JSON.stringify({
  Version: '1',
  Statement: [
    { Effect: 'Allow', Action: 'oss:GetObject', Resource: "acs:oss:*:*:examplebucket/a b!'()*~/*" },
  ],
})
const params = { RoleArn: DEFAULT_ROLE_ARNS.appUser, RoleSessionName: 'alice', Policy: policy }

const defaults = structuredClone(DEFAULT_EMULATOR_CONFIG)
// A role whose own policy allows everything (sts:AssumeRole included): a session of it can chain.
defaults.accounts[0]?.roles?.push({ name: 'chain-hop', trustPolicy: accountTrustPolicy(DEV_ACCOUNT_ID) })
const chainPolicy = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'acs:ram::*:role/*' }],
})
const config: EmulatorConfigInput = {
  ...defaults,
  accounts: [
    ...(defaults.accounts ?? []),
    {
      id: '1000000000000003',
      accessKeys: [{ id: 'LTAIdisabledKey03', secret: 'disabledSecret03', active: false }],
      roles: [],
    },
  ],
}
const throttled: EmulatorConfigInput = { ...config, throttle: { perSecond: 3 } }

let emulator: Emulator
let base: { endpoint: string; accessKeyId: string; secret: string; params: Record<string, string> }

beforeAll(async () => {
  emulator = await startEmulator({ config })
  base = {
    endpoint: emulator.endpoint,
    accessKeyId: DEV_ACCESS_KEY.id,
    secret: DEV_ACCESS_KEY.secret,
    params,
  }
})
afterAll(() => emulator.close())
beforeEach(() => {
  emulator.faults.clear()
  emulator.clock.setOffsetSeconds(0)
})

const call = (req: RawRequest) => send(emulator.stsUrl, req)
const codeOf = async (req: RawRequest) => {
  const res = await call(req)
  return `${res.status} ${String(res.json?.['Code'] ?? 'success')}`
}

describe('emulator signatures', () => {
  it.each([
    ['ACS3 (query parameters)', signAcs3],
    ['RPC HMAC-SHA1 (form body)', signRpc],
  ])('when a %s request is correctly signed, then AssumeRole succeeds', async (_, sign) => {
    const res = await call(sign(base))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json;charset=utf-8')
    const credentials = res.json?.['Credentials'] as Record<string, string>
    expect(credentials['AccessKeyId']).toMatch(/^STS\./)
    expect(emulator.sessions.get(credentials['AccessKeyId'] ?? '')?.policy).toBe(policy)
  })

  it.each([
    ['ACS3', signAcs3],
    ['RPC', signRpc],
  ])('when a signed %s request is replayed, then the replay gets SignatureNonceUsed', async (_, sign) => {
    const req = sign(base)
    expect(await codeOf(req)).toBe('200 success')
    expect(await codeOf(req)).toBe('400 SignatureNonceUsed')
  })

  it.each([
    ['16 minutes ago', '400 InvalidTimeStamp.Expired', -16 * 60],
    ['16 minutes ahead', '400 InvalidTimeStamp.Expired', 16 * 60],
    ['14 minutes ago', '200 success', -14 * 60],
  ])('when the request date is %s, then the answer is %s', async (_, expected, offset) => {
    const date = new Date(Date.now() + offset * 1000)
    expect(await codeOf(signAcs3({ ...base, date }))).toBe(expected)
    expect(await codeOf(signRpc({ ...base, date }))).toBe(expected)
  })

  it('when the emulator clock moves 20 minutes, then a request signed now is stale', async () => {
    await control(emulator.stsUrl, 'POST', '/__clock', { offsetSeconds: 1200 })
    expect(await codeOf(signAcs3(base))).toBe('400 InvalidTimeStamp.Expired')
  })

  it('when x-acs-date is not a UTC timestamp, then the answer is InvalidTimeStamp.Format', async () => {
    const req = signAcs3(base)
    req.headers['x-acs-date'] = 'yesterday'
    expect(await codeOf(req)).toBe('400 InvalidTimeStamp.Format')
  })

  it.each<[string, string, (r: RawRequest) => void]>([
    [
      'a query value is changed',
      '400 SignatureDoesNotMatch',
      (r) => {
        r.path = r.path.replace('alice', 'mallory')
      },
    ],
    [
      'a query parameter is added',
      '400 SignatureDoesNotMatch',
      (r) => {
        r.path += '&DurationSeconds=3600'
      },
    ],
    [
      'the signature is altered',
      '400 SignatureDoesNotMatch',
      (r) => {
        r.headers['authorization'] = r.headers['authorization']!.replace(/.$/, (c) => (c === '0' ? '1' : '0'))
      },
    ],
    [
      'a body is added',
      '400 SignatureDoesNotMatch',
      (r) => {
        r.body = 'RoleSessionName=x'
      },
    ],
    [
      'an unsigned x-acs- header is added',
      '400 IncompleteSignature',
      (r) => {
        r.headers['x-acs-extra'] = '1'
      },
    ],
    [
      'the nonce header is dropped',
      '400 IncompleteSignature',
      (r) => void delete r.headers['x-acs-signature-nonce'],
    ],
    [
      'the Authorization scheme is unknown',
      '400 IncompleteSignature',
      (r) => {
        r.headers['authorization'] = 'OSS a:b'
      },
    ],
    [
      'a parameter is given twice',
      '400 InvalidParameter',
      (r) => {
        r.path += '&RoleSessionName=alice'
      },
    ],
  ])('when %s after ACS3 signing, then the answer is %s', async (_, expected, tamper) => {
    const req = signAcs3(base)
    tamper(req)
    expect(await codeOf(req)).toBe(expected)
  })

  it.each<[string, string, Partial<typeof base>]>([
    ['an unknown AccessKey id', '404 InvalidAccessKeyId.NotFound', { accessKeyId: 'LTAIunknownKey99' }],
    ['a wrong secret', '400 SignatureDoesNotMatch', { secret: 'wrongSecret' }],
    [
      'a disabled key',
      '400 InvalidAccessKeyId.Inactive',
      { accessKeyId: 'LTAIdisabledKey03', secret: 'disabledSecret03' },
    ],
  ])('when signed with %s, then the answer is %s in both forms', async (_, expected, change) => {
    expect(await codeOf(signAcs3({ ...base, ...change }))).toBe(expected)
    expect(await codeOf(signRpc({ ...base, ...change }))).toBe(expected)
  })

  it('when the RPC secret is wrong, then the message carries the server string to sign, as Alibaba does', async () => {
    const res = await call(signRpc({ ...base, secret: 'wrongSecret' }))
    expect(String(res.json?.['Message'])).toMatch(
      /^Specified signature is not matched with our calculation\. server string to sign is:POST&%2F&/,
    )
  })

  it('when a request carries neither Authorization nor AccessKeyId, then the answer is MissingAccessKeyId', async () => {
    const res = await call({
      method: 'POST',
      path: '/?Action=AssumeRole&Version=2015-04-01',
      headers: { host: emulator.endpoint },
      body: '',
    })
    expect(`${res.status} ${res.json?.['Code']}`).toBe('400 MissingAccessKeyId')
  })

  it.each([
    ['another action', { action: 'GetFederationToken' }],
    ['an unknown action', { action: 'DeleteEverything' }],
  ])('when the request names %s, then the answer is InvalidAction.NotFound', async (_, change) => {
    expect(await codeOf(signAcs3({ ...base, ...change }))).toBe('404 InvalidAction.NotFound')
  })

  it("when an error is answered, then the body has Alibaba's fields and the request id header", async () => {
    const res = await call(signAcs3({ ...base, accessKeyId: 'LTAIunknownKey99' }))
    expect(Object.keys(res.json ?? {})).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend'])
    expect(res.json?.['RequestId']).toBe(res.headers['x-acs-request-id'])
    expect(res.json?.['Recommend']).toMatch(
      /^https:\/\/api\.aliyun\.com\/troubleshoot\?q=InvalidAccessKeyId\.NotFound/,
    )
  })
})

describe('emulator STS callers (role chaining)', () => {
  async function issue() {
    const params = {
      RoleArn: `acs:ram::${DEV_ACCOUNT_ID}:role/chain-hop`,
      RoleSessionName: 'hop',
      Policy: chainPolicy,
    }
    const res = await call(signAcs3({ ...base, params }))
    return res.json?.['Credentials'] as {
      AccessKeyId: string
      AccessKeySecret: string
      SecurityToken: string
    }
  }
  const chained = (c: { AccessKeyId: string; AccessKeySecret: string }, token: string) => ({
    ...base,
    accessKeyId: c.AccessKeyId,
    secret: c.AccessKeySecret,
    securityToken: token,
  })

  it.each([
    ['ACS3', signAcs3],
    ['RPC', signRpc],
  ])(
    'when a %s request is signed with issued STS credentials, then it can assume a trusted role',
    async (_, sign) => {
      const c = await issue()
      expect(await codeOf(sign(chained(c, c.SecurityToken)))).toBe('200 success')
    },
  )

  it.each([
    ['another issued token', '400 InvalidSecurityToken.MismatchWithAccessKey', 'CAISanotherIssuedToken'],
    ['a token that is not one', '400 InvalidSecurityToken.Malformed', 'garbage'],
  ])('when the STS key comes with %s, then the answer is %s', async (_, expected, token) => {
    const c = await issue()
    expect(await codeOf(signAcs3(chained(c, token)))).toBe(expected)
  })

  it('when the STS key comes without its token, then the answer is MissingSecurityToken', async () => {
    const c = await issue()
    expect(await codeOf(signAcs3({ ...base, accessKeyId: c.AccessKeyId, secret: c.AccessKeySecret }))).toBe(
      '400 MissingSecurityToken',
    )
  })

  it('when the session has expired on the emulator clock, then the answer is InvalidSecurityToken.Expired', async () => {
    const c = await issue()
    const later = new Date(Date.now() + 3601 * 1000)
    emulator.clock.setOffsetSeconds(3601)
    expect(await codeOf(signAcs3({ ...chained(c, c.SecurityToken), date: later }))).toBe(
      '400 InvalidSecurityToken.Expired',
    )
  })
})

describe('emulator GetCallerIdentity', () => {
  const identityOf = async (req: RawRequest) => {
    const res = await call(req)
    expect(res.status).toBe(200)
    return res.json ?? {}
  }
  // base is set in beforeAll.
  const ask = () => ({ ...base, action: 'GetCallerIdentity', params: {} })

  it.each([
    ['ACS3', signAcs3],
    ['RPC', signRpc],
  ])('when a RAM user asks (%s), then the answer is RAMUser with its ARN and ids', async (_, sign) => {
    const body = await identityOf(sign(ask()))
    expect(Object.keys(body).sort()).toEqual([
      'AccountId',
      'Arn',
      'IdentityType',
      'PrincipalId',
      'RequestId',
      'UserId',
    ])
    expect(body).toMatchObject({
      IdentityType: 'RAMUser',
      AccountId: DEV_ACCOUNT_ID,
      Arn: `acs:ram::${DEV_ACCOUNT_ID}:user/sts-vend`,
    })
    expect(body['PrincipalId']).toMatch(/^\d{16}$/)
    expect(body['UserId']).toBe(body['PrincipalId'])
  })

  it('when the root account key asks, then the answer is Account with the root ARN', async () => {
    const body = await identityOf(
      signAcs3({ ...ask(), accessKeyId: DEV_ROOT_ACCESS_KEY.id, secret: DEV_ROOT_ACCESS_KEY.secret }),
    )
    expect(body).toMatchObject({
      IdentityType: 'Account',
      AccountId: DEV_ACCOUNT_ID,
      Arn: `acs:ram::${DEV_ACCOUNT_ID}:root`,
      PrincipalId: DEV_ACCOUNT_ID,
      UserId: DEV_ACCOUNT_ID,
    })
  })

  it('when a role session asks, then the answer is AssumedRoleUser with RoleId and the assumed-role ARN', async () => {
    const res = await call(signAcs3(base))
    const c = res.json?.['Credentials'] as Record<string, string>
    const assumed = res.json?.['AssumedRoleUser'] as Record<string, string>
    const body = await identityOf(
      signAcs3({
        ...ask(),
        accessKeyId: c['AccessKeyId'] ?? '',
        secret: c['AccessKeySecret'] ?? '',
        securityToken: c['SecurityToken'] ?? '',
      }),
    )
    expect(body).toMatchObject({
      IdentityType: 'AssumedRoleUser',
      AccountId: DEV_ACCOUNT_ID,
      Arn: `acs:ram::${DEV_ACCOUNT_ID}:assumed-role/oss-app-user/alice`,
      PrincipalId: assumed['AssumedRoleId'],
    })
    expect(String(assumed['AssumedRoleId'])).toBe(`${body['RoleId']}:alice`)
    expect(body['UserId']).toBeUndefined()
  })

  it('when the root account key asks for a role, then the answer is NoPermission naming root accounts', async () => {
    const res = await call(
      signAcs3({ ...base, accessKeyId: DEV_ROOT_ACCESS_KEY.id, secret: DEV_ROOT_ACCESS_KEY.secret }),
    )
    expect(res.status).toBe(403)
    expect(res.json).toMatchObject({
      Code: 'NoPermission',
      Message: 'Roles may not be assumed by root accounts.',
    })
  })
})

describe('emulator throttling', () => {
  it('when an account exceeds throttle.perSecond, then it gets Throttling.User with x-acs-retry-after in ms', async () => {
    // Frozen at the start of a second: the four calls fall in one throttle window however slow they are.
    const second = Math.floor(Date.now() / 1000) * 1000
    const frozen = await startEmulator({ config: throttled, now: () => new Date(second) })
    try {
      const at = { ...base, endpoint: frozen.endpoint }
      const answers = []
      for (let i = 0; i < 4; i++) answers.push(await send(frozen.stsUrl, signAcs3(at)))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400])
      expect(answers[3]?.json?.['Code']).toBe('Throttling.User')
      expect(Number(answers[3]?.headers['x-acs-retry-after'])).toBe(1000)
      expect(frozen.counters.snapshot().calls['AssumeRole']).toEqual({ success: 3, 'Throttling.User': 1 })
    } finally {
      await frozen.close()
    }
  })
})

describe('emulator faults', () => {
  it.each<[string, string, object]>([
    ['throttle', '400 Throttling.User', { kind: 'throttle' }],
    ['server_error', '500 InternalError', { kind: 'server_error' }],
    [
      'server_error 503',
      '503 ServiceUnavailable',
      { kind: 'server_error', status: 503, code: 'ServiceUnavailable' },
    ],
    ['status 403', '403 NoPermission', { kind: 'status', status: 403, code: 'NoPermission' }],
  ])(
    'when a %s fault is queued, then the next call gets %s and the one after succeeds',
    async (_, expected, fault) => {
      await control(emulator.stsUrl, 'POST', '/__faults', fault)
      expect(await codeOf(signAcs3(base))).toBe(expected)
      expect(await codeOf(signAcs3(base))).toBe('200 success')
    },
  )

  it('when a throttle fault has retryAfterMs, then the answer carries x-acs-retry-after', async () => {
    emulator.faults.add([{ kind: 'throttle', retryAfterMs: 250 }])
    const res = await call(signAcs3(base))
    expect(res.headers['x-acs-retry-after']).toBe('250')
  })

  it('when a reset fault is queued, then the connection is dropped without an answer', async () => {
    emulator.faults.add([{ kind: 'reset' }])
    await expect(call(signAcs3(base))).rejects.toMatchObject({ code: 'ECONNRESET' })
  })

  it('when a malformed fault is queued, then the body is not JSON', async () => {
    emulator.faults.add([{ kind: 'malformed' }])
    const res = await call(signAcs3(base))
    expect(res.status).toBe(200)
    expect(res.json).toBeUndefined()
  })

  it('when a delay fault is queued, then the answer comes after delayMs and succeeds', async () => {
    emulator.faults.add([{ kind: 'delay', delayMs: 300 }])
    const started = Date.now()
    expect(await codeOf(signAcs3(base))).toBe('200 success')
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it.each<[string, object, (c: Record<string, unknown>, u: Record<string, unknown>) => void]>([
    ['partial', { kind: 'partial' }, (c) => expect(c['SecurityToken']).toBeUndefined()],
    [
      'badExpiration',
      { kind: 'badExpiration', expiration: '2026-01-01T10:00:00.000Z' },
      (c) => expect(c['Expiration']).toBe('2026-01-01T10:00:00.000Z'),
    ],
    ['wrongRole', { kind: 'wrongRole' }, (_, u) => expect(u['Arn']).toMatch(/:role\/another-role\/alice$/)],
  ])('when a %s fault is queued, then the 200 answer is bent accordingly', async (_, fault, check) => {
    await control(emulator.stsUrl, 'POST', '/__faults', [fault])
    const res = await call(signAcs3(base))
    expect(res.status).toBe(200)
    check(
      res.json?.['Credentials'] as Record<string, unknown>,
      res.json?.['AssumedRoleUser'] as Record<string, unknown>,
    )
  })

  it('when an invalid fault is posted, then it is refused with 400 and nothing is queued', async () => {
    const res = await control(emulator.stsUrl, 'POST', '/__faults', { faults: [{ kind: 'delay' }] })
    expect(res.status).toBe(400)
    expect(emulator.faults.pending()).toEqual([])
  })

  it('when faults are listed and deleted, then the control endpoints report them', async () => {
    await control(emulator.stsUrl, 'POST', '/__faults', { faults: [{ kind: 'throttle', count: 3 }] })
    expect((await control(emulator.stsUrl, 'GET', '/__faults')).json).toEqual({
      pending: [{ kind: 'throttle', count: 3 }],
    })
    await control(emulator.stsUrl, 'DELETE', '/__faults')
    expect(emulator.faults.pending()).toEqual([])
  })
})

describe('emulator counters and clock', () => {
  it('when calls are made, then GET /__counters and /__stats report them and DELETE resets', async () => {
    await control(emulator.stsUrl, 'DELETE', '/__counters')
    await call(signAcs3(base))
    await call(signAcs3({ ...base, params: { RoleArn: params.RoleArn, RoleSessionName: 'bob' } }))
    const stats = (await control(emulator.stsUrl, 'GET', '/__stats')).json
    expect(stats).toMatchObject({
      assumeRoleCalls: 2,
      policylessCalls: 1,
      calls: { AssumeRole: { success: 2 } },
    })
    expect(stats?.['last']).toMatchObject({ RoleSessionName: 'bob', Policy: null })
    expect((await control(emulator.stsUrl, 'GET', '/__counters')).json).toEqual(stats)
  })

  it('when POST /__clock sets an offset, then GET /__clock reports the moved time', async () => {
    const res = await control(emulator.stsUrl, 'POST', '/__clock', { offsetSeconds: 3600 })
    expect(res.json?.['offsetSeconds']).toBe(3600)
    expect(Date.parse(String(res.json?.['now'])) - Date.now()).toBeGreaterThan(3590_000)
    expect((await control(emulator.stsUrl, 'POST', '/__clock', { offsetSeconds: 'x' })).status).toBe(400)
  })

  it.each([
    ['GET', '/__stats', undefined],
    ['POST', '/__faults', { kind: 'throttle' }],
    ['POST', '/__clock', { offsetSeconds: 7200 }],
  ])(
    'when a loopback peer sends %s %s with Host: evil.example (DNS rebinding), then 403 and nothing changes (issue 16 item 10)',
    async (method, path, body) => {
      const res = await send(emulator.stsUrl, {
        method,
        path,
        headers: { host: 'evil.example', 'content-type': 'application/json' },
        body: body === undefined ? '' : JSON.stringify(body),
      })
      expect(res.status).toBe(403)
      expect(emulator.faults.pending()).toEqual([])
      expect(emulator.clock.offsetSeconds()).toBe(0)
      // The twin: the same request with the emulator's own host:port is answered.
      expect((await control(emulator.stsUrl, method, path, body)).status).toBe(200)
    },
  )

  it('when an unknown control path is asked, then it is 404', async () => {
    expect((await control(emulator.stsUrl, 'GET', '/__nothing')).status).toBe(404)
  })
})
