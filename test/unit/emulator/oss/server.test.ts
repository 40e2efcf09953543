// The OSS side over HTTP(S) with ali-oss (V4, virtual-host) and raw requests: signature versions, addressing, authentication codes, XML errors, operations, transport conditions.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  DEV_ROOT_ACCESS_KEY,
  type Emulator,
  PARTNER_ROOT_ACCESS_KEY,
  parseEmulatorConfig,
  SOURCE_IP_HEADER,
  startEmulator,
  VPC_ID_HEADER,
} from '../../../../src/emulator/index.ts'
import {
  bucketUrl,
  type ClientOptions,
  loopbackAgents,
  mintSession,
  OSS,
  type OssCredentials,
  ossClient,
  ossEndpoint,
  ossRequest,
  outcome,
} from '../../../fixtures/oss.ts'

const policy = (extra: Record<string, unknown> = {}) => ({
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['oss:GetObject', 'oss:PutObject', 'oss:AbortMultipartUpload', 'oss:ListParts'],
      Resource: 'acs:oss:*:*:examplebucket/users/alice/*',
      ...extra,
    },
    {
      Effect: 'Allow',
      Action: 'oss:ListObjects',
      Resource: 'acs:oss:*:*:examplebucket',
      Condition: { StringLike: { 'oss:Prefix': ['users/alice/*'] } },
    },
  ],
})

let plain: Emulator
let simulated: Emulator
/** examplebucket made before the V1 cut-off: it takes V1 and V4. */
let legacy: Emulator

const legacyConfig = {
  ...DEFAULT_EMULATOR_CONFIG,
  buckets: (DEFAULT_EMULATOR_CONFIG.buckets ?? []).map((b) =>
    b.name === 'examplebucket' ? { ...b, signatureVersions: ['v1' as const, 'v4' as const] } : b,
  ),
}

beforeAll(async () => {
  ;[plain, simulated, legacy] = await Promise.all([
    startEmulator({ config: DEFAULT_EMULATOR_CONFIG }),
    startEmulator({ config: DEFAULT_EMULATOR_CONFIG, simulateNetwork: true }),
    startEmulator({ config: legacyConfig }),
  ])
})
afterAll(async () => {
  await Promise.all([plain?.close(), simulated?.close(), legacy?.close()])
})
beforeEach(() => {
  plain.clock.setOffsetSeconds(0)
  legacy.clock.setOffsetSeconds(0)
})

const alice = (emulator: Emulator = plain, extra: Record<string, unknown> = {}, ttlSeconds = 3600) =>
  mintSession(emulator, {
    accountId: DEV_ACCOUNT_ID,
    roleName: 'oss-app-user',
    policy: policy(extra),
    ttlSeconds,
  })

/** An ali-oss client for `creds`; an empty SecurityToken sends none. */
function client(creds: OssCredentials, overrides: Partial<ClientOptions> = {}, emulator = plain) {
  return ossClient({
    url: emulator.ossUrl,
    bucket: 'examplebucket',
    accessKeyId: creds.AccessKeyId,
    accessKeySecret: creds.AccessKeySecret,
    ...(creds.SecurityToken ? { stsToken: creds.SecurityToken } : {}),
    ...overrides,
  })
}

async function raw(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init)
  const text = await res.text()
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1]
  return { status: res.status, headers: res.headers, text, code: field('Code'), field }
}

describe('OSS signature versions', () => {
  it('when a bucket names no signatureVersions, then it takes V4 only; [v1, v4] is kept; [] and v2 are refused', () => {
    const bucket = { name: 'newbucket', account: DEV_ACCOUNT_ID, region: 'cn-hangzhou' }
    const parse = (extra: Record<string, unknown>) =>
      parseEmulatorConfig({
        ...DEFAULT_EMULATOR_CONFIG,
        buckets: [...(DEFAULT_EMULATOR_CONFIG.buckets ?? []), { ...bucket, ...extra }],
      }).buckets.find((b) => b.name === 'newbucket')
    expect(parse({})?.signatureVersions).toEqual(['v4'])
    expect(parse({ signatureVersions: ['v1', 'v4'] })?.signatureVersions).toEqual(['v1', 'v4'])
    expect(() => parse({ signatureVersions: [] })).toThrow(/buckets\[2\]\.signatureVersions/)
    expect(() => parse({ signatureVersions: ['v2'] })).toThrow(/buckets\[2\]\.signatureVersions/)
  })

  it('when alice signs V4 through <bucket>.oss-cn-hangzhou.aliyuncs.com, then put and get of her own key succeed', async () => {
    const oss = client(alice())
    await oss.put('users/alice/V4.txt', Buffer.from('hello'))
    expect((await oss.get('users/alice/V4.txt')).content.toString()).toBe('hello')
  })

  it('when alice signs V1 to a V4-only bucket, then 403 AccessDenied naming V4 and nothing is written', async () => {
    const err = await client(alice(), { signing: 'v1' })
      .put('users/alice/V1.txt', Buffer.from('x'))
      .catch((e: { code: string; status: number; message: string }) => e)
    expect(err).toMatchObject({ code: 'AccessDenied', status: 403 })
    expect((err as { message: string }).message).toMatch(/V4/)
    expect(plain.objects.bucket('examplebucket').objects.has('users/alice/V1.txt')).toBe(false)
  })

  it('when a V1 presigned URL is used on a V4-only bucket, then 403 AccessDenied', async () => {
    const url = client(alice(), { signing: 'v1' }).signatureUrl('users/alice/V1.txt', { expires: 60 })
    expect(await ossRequest(url)).toMatchObject({ status: 403, code: 'AccessDenied' })
  })

  it('when the bucket still accepts [v1, v4], then a V1-signed put and a V1 presigned get both work', async () => {
    const creds = alice(legacy)
    const oss = client(creds, { signing: 'v1' }, legacy)
    await oss.put('users/alice/old.txt', Buffer.from('legacy'))
    const url = oss.signatureUrl('users/alice/old.txt', { expires: 60 })
    expect(await ossRequest(url)).toMatchObject({ status: 200, text: 'legacy' })
    expect((await client(creds, {}, legacy).get('users/alice/old.txt')).content.toString()).toBe('legacy')
  })
})

describe('OSS addressing', () => {
  it('when ali-oss is set to path-style (sldEnable) against oss-cn-hangzhou.aliyuncs.com, then 403 SecondLevelDomainForbidden', async () => {
    const creds = alice()
    const oss = new OSS({
      endpoint: ossEndpoint(plain.ossUrl),
      bucket: 'examplebucket',
      region: 'oss-cn-hangzhou',
      authorizationV4: true,
      sldEnable: true,
      accessKeyId: creds.AccessKeyId,
      accessKeySecret: creds.AccessKeySecret,
      stsToken: creds.SecurityToken,
      refreshSTSToken: async () => creds,
      refreshSTSTokenInterval: 3_600_000,
      ...loopbackAgents(),
    })
    const err = await oss
      .put('users/alice/path-style.txt', Buffer.from('x'))
      .catch((e: { code: string; status: number; message: string }) => e)
    expect(err).toMatchObject({ code: 'SecondLevelDomainForbidden', status: 403 })
    expect((err as { message: string }).message).toContain('Please use virtual hosted style to access.')
    expect(plain.objects.bucket('examplebucket').objects.has('users/alice/path-style.txt')).toBe(false)
  })

  it('when a virtual-host key starts with another bucket’s name, then it stays a key of the Host’s bucket', async () => {
    const oss = client(alice())
    // Path-style used to win for a known first segment; the Host now decides.
    expect(await outcome(oss.put('users/alice/partnerbucket/x', Buffer.from('x')))).toBe('ok')
    const raw = await ossRequest(`${bucketUrl(plain.ossUrl, 'examplebucket')}/partnerbucket/x`)
    expect(raw.code).toBe('AccessDenied')
    expect(plain.objects.bucket('partnerbucket').objects.size).toBe(0)
  })
})

describe('OSS authentication', () => {
  const wrong: [string, (c: OssCredentials) => Partial<OssCredentials>, Partial<ClientOptions>, string][] = [
    [
      'an unknown STS AccessKeyId',
      (c) => ({ AccessKeyId: `STS.unknown${c.AccessKeyId.slice(4)}` }),
      {},
      'InvalidAccessKeyId',
    ],
    ['an STS AccessKeyId without its token', () => ({ SecurityToken: '' }), {}, 'InvalidAccessKeyId'],
    ['a wrong security token', (c) => ({ SecurityToken: `${c.SecurityToken}x` }), {}, 'InvalidSecurityToken'],
    ['a wrong secret', () => ({ AccessKeySecret: 'wrong-secret' }), {}, 'SignatureDoesNotMatch'],
    [
      'an unknown permanent AccessKey',
      () => ({ AccessKeyId: 'LTAInobody', SecurityToken: '' }),
      {},
      'InvalidAccessKeyId',
    ],
    [
      'a permanent AccessKey with a token',
      () => ({ AccessKeyId: DEV_ACCESS_KEY.id, AccessKeySecret: DEV_ACCESS_KEY.secret }),
      {},
      'InvalidSecurityToken',
    ],
  ]
  it.each(wrong)(
    'when the request carries %s, then OSS answers %s (403)',
    async (_why, change, options, code) => {
      const creds = alice()
      const err = await client({ ...creds, ...change(creds) }, options)
        .put('users/alice/a.txt', Buffer.from('x'))
        .catch((e: { code: string; status: number }) => e)
      expect(err).toMatchObject({ code, status: 403 })
    },
  )

  it('when the emulator clock passes the expiration, then SecurityTokenExpired; before it, the same credentials work', async () => {
    const oss = client(alice(plain, {}, 900))
    expect(await outcome(oss.put('users/alice/e.txt', Buffer.from('x')))).toBe('ok')
    plain.clock.setOffsetSeconds(901)
    const err = await oss
      .put('users/alice/e.txt', Buffer.from('x'))
      .catch((e: { code: string; status: number }) => e)
    expect(err).toMatchObject({ code: 'SecurityTokenExpired', status: 403 })
  })

  it('when the request date is 16 minutes off, then RequestTimeTooSkewed with the server time', async () => {
    const creds = alice(plain, {}, 7200)
    plain.clock.setOffsetSeconds(16 * 60)
    const err = await client(creds)
      .put('users/alice/s.txt', Buffer.from('x'))
      .catch((e: { code: string }) => e)
    expect(err).toMatchObject({ code: 'RequestTimeTooSkewed' })
  })

  it('when a request is unsigned, then 403 AccessDenied in OSS XML whose RequestId is the x-oss-request-id header', async () => {
    const res = await raw(`${plain.ossUrl}/examplebucket/users/alice/a.txt`)
    expect(res.status).toBe(403)
    expect(res.code).toBe('AccessDenied')
    expect(res.headers.get('content-type')).toBe('application/xml')
    expect(res.headers.get('x-oss-request-id')).toMatch(/^[0-9A-F]{24}$/)
    expect(res.field('RequestId')).toBe(res.headers.get('x-oss-request-id'))
    expect(res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')).toBe(true)
  })

  it('when the signature does not match, then the error body names the AccessKeyId but never the token', async () => {
    const creds = alice()
    const url = await client(creds).signatureUrlV4('GET', 60, undefined, 'users/alice/a.txt')
    const res = await ossRequest(url.replace('users/alice/a.txt', 'users/alice/b.txt'))
    expect(res.code).toBe('SignatureDoesNotMatch')
    expect(res.field('OSSAccessKeyId')).toBe(creds.AccessKeyId)
    expect(res.text).not.toContain(creds.SecurityToken.slice(0, 40))
  })

  it.each([
    ['V1 (a [v1, v4] bucket)', false],
    ['V4', true],
  ])(
    'when a %s presigned URL is used in time, then it works; once expired, AccessDenied "Request has expired."',
    async (_name, v4) => {
      const emulator = v4 ? plain : legacy
      const creds = alice(emulator)
      const oss = client(creds, v4 ? {} : { signing: 'v1' }, emulator)
      await oss.put('users/alice/p.txt', Buffer.from('presigned'))
      const url = v4
        ? await oss.signatureUrlV4('GET', 60, undefined, 'users/alice/p.txt')
        : oss.signatureUrl('users/alice/p.txt', { expires: 60 })
      expect(await ossRequest(url)).toMatchObject({ status: 200, text: 'presigned' })
      emulator.clock.setOffsetSeconds(120)
      const late = await ossRequest(url)
      expect(late).toMatchObject({ status: 403, code: 'AccessDenied' })
      expect(late.field('Message')).toBe('Request has expired.')
    },
  )

  it('when the account root AccessKey signs, then it reaches its own bucket but not another account’s; a RAM user holding only sts:AssumeRole reaches neither', async () => {
    const own = client({
      AccessKeyId: DEV_ROOT_ACCESS_KEY.id,
      AccessKeySecret: DEV_ROOT_ACCESS_KEY.secret,
      SecurityToken: '',
      Expiration: '',
    })
    expect(await outcome(own.put('anything/at/all', Buffer.from('x')))).toBe('ok')
    const partner = client({
      AccessKeyId: PARTNER_ROOT_ACCESS_KEY.id,
      AccessKeySecret: PARTNER_ROOT_ACCESS_KEY.secret,
      SecurityToken: '',
      Expiration: '',
    })
    expect(await outcome(partner.get('anything/at/all'))).toBe('AccessDenied')
    const serviceUser = client({
      AccessKeyId: DEV_ACCESS_KEY.id,
      AccessKeySecret: DEV_ACCESS_KEY.secret,
      SecurityToken: '',
      Expiration: '',
    })
    expect(await outcome(serviceUser.get('anything/at/all'))).toBe('AccessDenied')
    expect(await outcome(serviceUser.put('anything/at/all', Buffer.from('y')))).toBe('AccessDenied')
  })
})

describe('OSS operations and errors', () => {
  it('when a denied HEAD is answered, then ali-oss reads AccessDenied from x-oss-err', async () => {
    expect(await outcome(client(alice()).head('users/bob/x'))).toBe('AccessDenied')
  })

  it.each([
    [
      'a missing key inside the grant',
      (c: ReturnType<typeof client>) => c.get('users/alice/missing'),
      'NoSuchKey',
    ],
    ['an unknown bucket', (c: ReturnType<typeof client>) => c.getBucketInfo('nosuchbucket'), 'NoSuchBucket'],
    [
      'an operation the emulator lacks (PutObjectACL)',
      (c: ReturnType<typeof client>) =>
        (c as unknown as { putACL(n: string, a: string): Promise<unknown> }).putACL(
          'users/alice/a',
          'private',
        ),
      'NotImplemented',
    ],
    [
      'a Content-MD5 that is not the body’s',
      (c: ReturnType<typeof client>) =>
        c.put('users/alice/m', Buffer.from('x'), { headers: { 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==' } }),
      'InvalidDigest',
    ],
  ])('when asking for %s, then %s', async (_why, call, code) => {
    expect(await outcome(call(client(alice())))).toBe(code)
  })

  it('when a multipart upload is completed with a wrong ETag, a small middle part, or after abort, then InvalidPart, EntityTooSmall, NoSuchUpload', async () => {
    const oss = client(alice())
    const key = 'users/alice/parts.bin'
    const { uploadId } = await oss.initMultipartUpload(key)
    const one = await oss.uploadPart(key, uploadId, 1, Buffer.alloc(10, 1), 0, 10)
    const two = await oss.uploadPart(key, uploadId, 2, Buffer.alloc(10, 2), 0, 10)
    expect(await outcome(oss.completeMultipartUpload(key, uploadId, [{ number: 1, etag: '"00"' }]))).toBe(
      'InvalidPart',
    )
    expect(
      await outcome(
        oss.completeMultipartUpload(key, uploadId, [
          { number: 1, etag: one.etag },
          { number: 2, etag: two.etag },
        ]),
      ),
    ).toBe('EntityTooSmall')
    await oss.abortMultipartUpload(key, uploadId)
    expect(await outcome(oss.listParts(key, uploadId))).toBe('NoSuchUpload')
  })

  it('when 5 keys are listed 2 at a time (v1 marker, v2 continuation token), then every key comes once, in order', async () => {
    const oss = client(alice())
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `users/alice/page/${k}`)
    for (const key of keys) await oss.put(key, Buffer.from(key))
    const v1: string[] = []
    let marker = ''
    for (let page = 0; page < 5; page++) {
      const res = await oss.list({ prefix: 'users/alice/page/', 'max-keys': 2, marker })
      v1.push(...(res.objects ?? []).map((o) => o.name))
      if (!res.isTruncated) break
      marker = String(res.nextMarker)
    }
    const v2: string[] = []
    let token: string | undefined
    for (let page = 0; page < 5; page++) {
      const res = await oss.listV2({
        prefix: 'users/alice/page/',
        'max-keys': 2,
        ...(token ? { 'continuation-token': token } : {}),
      })
      v2.push(...(res.objects ?? []).map((o) => o.name))
      if (!res.isTruncated) break
      token = String(res.nextContinuationToken)
    }
    expect(v1).toEqual(keys)
    expect(v2).toEqual(keys)
  })
})

describe('OSS transport conditions', () => {
  it('when the session requires SecureTransport, then plain http is denied and the TLS listener allows it', async () => {
    const tls = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG, tls: true })
    try {
      const secure = { Condition: { Bool: { 'acs:SecureTransport': 'true' } } }
      expect(tls.ossUrl).toMatch(/^https:/)
      expect(await outcome(client(alice(plain, secure)).put('users/alice/t', Buffer.from('x')))).toBe(
        'AccessDenied',
      )
      const ca = readFileSync(tls.caPath ?? '', 'utf8')
      expect(
        await outcome(client(alice(tls, secure), { ca }, tls).put('users/alice/t', Buffer.from('x'))),
      ).toBe('ok')
    } finally {
      await tls.close()
    }
  })

  const pinned = { Condition: { IpAddress: { 'acs:SourceIp': '127.0.0.1/32' } } }

  it('when credentials are bound to 127.0.0.1, then a connection from 127.0.0.2 is denied', async () => {
    const creds = alice(plain, pinned)
    expect(await outcome(client(creds).put('users/alice/ip', Buffer.from('x')))).toBe('ok')
    expect(
      await outcome(client(creds, { localAddress: '127.0.0.2' }).put('users/alice/ip', Buffer.from('x'))),
    ).toBe('AccessDenied')
  })

  it.each([
    ['without --simulate-network the header is ignored', () => plain, 'ok'],
    ['with --simulate-network a loopback caller moves acs:SourceIp', () => simulated, 'AccessDenied'],
  ])('when x-emulator-source-ip says 10.0.0.1: %s', async (_why, emulator, expected) => {
    const creds = alice(emulator(), pinned)
    const oss = client(creds, {}, emulator())
    expect(
      await outcome(
        oss.put('users/alice/ip', Buffer.from('x'), { headers: { [SOURCE_IP_HEADER]: '10.0.0.1' } }),
      ),
    ).toBe(expected)
  })

  it.each([
    [SOURCE_IP_HEADER, 'not-an-ip'],
    [VPC_ID_HEADER, 'not a vpc'],
  ])('when the simulation header %s is %j, then InvalidArgument', async (name, value) => {
    const oss = client(alice(simulated), {}, simulated)
    expect(await outcome(oss.put('users/alice/h', Buffer.from('x'), { headers: { [name]: value } }))).toBe(
      'InvalidArgument',
    )
  })
})
