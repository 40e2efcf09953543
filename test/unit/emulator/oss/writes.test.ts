// CopyObject, DeleteMultipleObjects, PostObject (V4 form), AppendObject and object tagging through ali-oss and V4 forms, each authorized as OSS does.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEV_ACCOUNT_ID,
  type Emulator,
  startEmulator,
} from '../../../../src/emulator/index.ts'
import {
  type ClientOptions,
  mintSession,
  type OssClient,
  type OssCredentials,
  ossClient,
  ossRequest,
  outcome,
  postObjectV4,
} from '../../../fixtures/oss.ts'

let emulator: Emulator
let legacy: Emulator

beforeAll(async () => {
  const legacyConfig = {
    ...DEFAULT_EMULATOR_CONFIG,
    buckets: (DEFAULT_EMULATOR_CONFIG.buckets ?? []).map((b) =>
      b.name === 'examplebucket' ? { ...b, signatureVersions: ['v1' as const, 'v4' as const] } : b,
    ),
  }
  ;[emulator, legacy] = await Promise.all([
    startEmulator({ config: DEFAULT_EMULATOR_CONFIG }),
    startEmulator({ config: legacyConfig }),
  ])
  // The bucket owner's objects, written through a session with the role's full rights on the bucket.
  const owner = client(session(['oss:*'], 'acs:oss:*:*:examplebucket/*'))
  await owner.put('users/bob/x', Buffer.from('bob’s secret'))
  await owner.put('users/bob/y', Buffer.from('bob’s other'))
})
afterAll(async () => {
  await Promise.all([emulator?.close(), legacy?.close()])
})

/** A session of role oss-app-user whose session policy allows `actions` on `resource` (default users/alice/*). */
function session(actions: string[], resource = 'acs:oss:*:*:examplebucket/users/alice/*', on = emulator) {
  return mintSession(on, {
    accountId: DEV_ACCOUNT_ID,
    roleName: 'oss-app-user',
    sessionName: 'alice',
    policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] },
  })
}

function client(creds: OssCredentials, on = emulator, extra: Partial<ClientOptions> = {}): OssClient {
  return ossClient({
    url: on.ossUrl,
    bucket: 'examplebucket',
    accessKeyId: creds.AccessKeyId,
    accessKeySecret: creds.AccessKeySecret,
    stsToken: creds.SecurityToken,
    ...extra,
  })
}

const stored = (key: string, on = emulator) => on.objects.bucket('examplebucket').objects.get(key)
const READ_WRITE = ['oss:GetObject', 'oss:PutObject']

describe('CopyObject: oss:GetObject on the source and oss:PutObject on the target', () => {
  it('when alice copies within users/alice/, then the copy has the source’s body and metadata', async () => {
    const oss = client(session(READ_WRITE))
    await oss.put('users/alice/src.txt', Buffer.from('original'), { meta: { owner: 'alice' } })
    expect(await outcome(oss.copy('users/alice/dst.txt', 'users/alice/src.txt'))).toBe('ok')
    expect(stored('users/alice/dst.txt')?.body.toString()).toBe('original')
    expect(stored('users/alice/dst.txt')?.meta).toEqual({ 'x-oss-meta-owner': 'alice' })
  })

  it('when alice copies users/bob/x into users/alice/, then AccessDenied (no GetObject on the source) and nothing is written', async () => {
    const oss = client(session(READ_WRITE))
    expect(await outcome(oss.copy('users/alice/stolen.txt', 'users/bob/x'))).toBe('AccessDenied')
    expect(stored('users/alice/stolen.txt')).toBeUndefined()
  })

  it('when alice copies her own object into users/bob/, then AccessDenied (no PutObject on the target)', async () => {
    const oss = client(session(READ_WRITE))
    await oss.put('users/alice/mine.txt', Buffer.from('mine'))
    expect(await outcome(oss.copy('users/bob/x', 'users/alice/mine.txt'))).toBe('AccessDenied')
    expect(stored('users/bob/x')?.body.toString()).toBe('bob’s secret')
  })

  it('when alice may put but not get (upload-only), then copying even her own object is AccessDenied', async () => {
    await client(session(READ_WRITE)).put('users/alice/up.txt', Buffer.from('up'))
    const uploadOnly = client(session(['oss:PutObject']))
    expect(await outcome(uploadOnly.copy('users/alice/up2.txt', 'users/alice/up.txt'))).toBe('AccessDenied')
  })
})

/** DeleteMultipleObjects through ali-oss's own signer, answering the raw DeleteResult XML. */
async function deleteResult(oss: OssClient, keys: string[], quiet = false): Promise<string> {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>${quiet}</Quiet>${keys
    .map((k) => `<Object><Key>${k}</Key></Object>`)
    .join('')}</Delete>`
  const internal = oss as unknown as {
    _objectRequestParams(method: string, name: string, options: object): Record<string, unknown>
    request(params: object): Promise<{ data: Buffer; status: number }>
  }
  const params = internal._objectRequestParams('POST', '', { subres: { delete: '' } })
  const res = await internal.request({
    ...params,
    mime: 'xml',
    content: Buffer.from(body),
    successStatuses: [200],
  })
  return res.data.toString('utf8')
}

describe('DeleteMultipleObjects: oss:DeleteObject key by key', () => {
  it('when alice deletes her key and bob’s in one request, then hers is Deleted and bob’s is an AccessDenied Error and stays', async () => {
    const oss = client(session([...READ_WRITE, 'oss:DeleteObject']))
    await oss.put('users/alice/d1.txt', Buffer.from('x'))
    const xml = await deleteResult(oss, ['users/alice/d1.txt', 'users/bob/y'])
    expect(xml).toContain('<Deleted><Key>users/alice/d1.txt</Key></Deleted>')
    expect(xml).toMatch(
      /<Error><Key>users\/bob\/y<\/Key><Code>AccessDenied<\/Code><Message>[^<]+<\/Message><\/Error>/,
    )
    expect(stored('users/alice/d1.txt')).toBeUndefined()
    expect(stored('users/bob/y')?.body.toString()).toBe('bob’s other')
  })

  it('when ali-oss deleteMulti runs in quiet mode, then only the refused key is reported', async () => {
    const oss = client(session([...READ_WRITE, 'oss:DeleteObject']))
    await oss.put('users/alice/d2.txt', Buffer.from('x'))
    const xml = await deleteResult(oss, ['users/alice/d2.txt', 'users/bob/y'], true)
    expect(xml).not.toContain('<Deleted>')
    expect(xml).toContain('<Key>users/bob/y</Key><Code>AccessDenied</Code>')
    const { deleted } = await oss.deleteMulti(['users/alice/never-existed.txt'])
    expect(deleted).toEqual([{ Key: 'users/alice/never-existed.txt' }])
  })

  it('when the session has no oss:DeleteObject at all, then every key is refused and none is deleted', async () => {
    const oss = client(session(READ_WRITE))
    await oss.put('users/alice/d3.txt', Buffer.from('x'))
    const xml = await deleteResult(oss, ['users/alice/d3.txt'])
    expect(xml).toContain('<Code>AccessDenied</Code>')
    expect(stored('users/alice/d3.txt')).toBeDefined()
  })
})

describe('PostObject with a V4 form policy: authorized as oss:PutObject', () => {
  const form = (
    creds: OssCredentials,
    key: string,
    extra: Partial<Parameters<typeof postObjectV4>[0]> = {},
  ) =>
    postObjectV4({
      url: emulator.ossUrl,
      bucket: 'examplebucket',
      key,
      body: Buffer.from(`form upload of ${key}`),
      accessKeyId: creds.AccessKeyId,
      accessKeySecret: creds.AccessKeySecret,
      stsToken: creds.SecurityToken,
      ...extra,
    })

  it('when alice posts a form under users/alice/, then 204 and the object is stored with the form’s Content-Type', async () => {
    const res = await form(session(['oss:PutObject']), 'users/alice/form.txt', {
      fields: { 'Content-Type': 'text/plain', success_action_status: '204' },
    })
    expect(res.status).toBe(204)
    expect(stored('users/alice/form.txt')).toMatchObject({ contentType: 'text/plain' })
    expect(stored('users/alice/form.txt')?.body.toString()).toBe('form upload of users/alice/form.txt')
  })

  it('when success_action_status is 201, then a PostResponse names the bucket, key and ETag', async () => {
    const res = await form(session(['oss:PutObject']), 'users/alice/form201.txt', {
      fields: { success_action_status: '201' },
    })
    expect(res.status).toBe(201)
    expect(res.field('Key')).toBe('users/alice/form201.txt')
    const md5 = createHash('md5').update('form upload of users/alice/form201.txt').digest('hex').toUpperCase()
    expect(res.field('ETag')).toBe(`&quot;${md5}&quot;`)
  })

  it('when alice posts a form for users/bob/, then 403 AccessDenied (the session policy) and nothing is written', async () => {
    const res = await form(session(['oss:PutObject']), 'users/bob/form.txt')
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' })
    expect(res.field('Message')).toMatch(/oss:PutObject/)
    expect(stored('users/bob/form.txt')).toBeUndefined()
  })

  it.each([
    ['signed with the wrong secret', { signingSecret: 'not-the-secret' }, 'SignatureDoesNotMatch'],
    [
      'whose key breaks the policy’s starts-with',
      { conditions: [['starts-with', '$key', 'users/alice/photos/']] },
      'AccessDenied',
    ],
    ['whose policy has expired', { expiration: new Date(Date.now() - 60_000) }, 'AccessDenied'],
    [
      'bigger than the content-length-range',
      { conditions: [['content-length-range', 1, 5]] },
      'EntityTooLarge',
    ],
  ])('when the form is %s, then %s', async (_why, extra, code) => {
    const res = await form(session(['oss:PutObject']), 'users/alice/refused.txt', extra)
    expect(res.code).toBe(code)
    expect(stored('users/alice/refused.txt')).toBeUndefined()
  })

  it('when a V1 form (OSSAccessKeyId, Signature) goes to a V4-only bucket, then 403 AccessDenied naming V4', async () => {
    const res = await form(session(['oss:PutObject']), 'users/alice/v1form.txt', {
      fields: { OSSAccessKeyId: 'STS.x', Signature: 'x' },
    })
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' })
    expect(res.field('Message')).toMatch(/V4/)
  })
})

describe('AppendObject: oss:PutObject, position must be the current length', () => {
  it('when alice appends at 0 then at the returned position, then both parts are kept and HEAD shows the next position', async () => {
    const oss = client(session(READ_WRITE))
    const first = await oss.append('users/alice/log.txt', Buffer.from('one\n'))
    expect(first.nextAppendPosition).toBe('4')
    const second = await oss.append('users/alice/log.txt', Buffer.from('two\n'), { position: '4' })
    expect(second.nextAppendPosition).toBe('8')
    expect((await oss.get('users/alice/log.txt')).content.toString()).toBe('one\ntwo\n')
    const head = await oss.head('users/alice/log.txt')
    expect(head.res.headers).toMatchObject({
      'x-oss-object-type': 'Appendable',
      'x-oss-next-append-position': '8',
    })
  })

  it('when the position is not the current length, then 409 PositionNotEqualToLength and nothing is appended', async () => {
    const oss = client(session(READ_WRITE))
    await oss.append('users/alice/log2.txt', Buffer.from('abc'))
    const err = await oss
      .append('users/alice/log2.txt', Buffer.from('x'), { position: '1' })
      .catch((e: { code: string; status: number }) => e)
    expect(err).toMatchObject({ code: 'PositionNotEqualToLength', status: 409 })
    // A V4 presigned append at the wrong position: the answer says where the object ends.
    const url = await oss.signatureUrlV4(
      'POST',
      60,
      { queries: { append: null, position: '1' } },
      'users/alice/log2.txt',
    )
    const raw = await ossRequest(url, { method: 'POST', body: 'x' })
    expect(raw).toMatchObject({ status: 409, code: 'PositionNotEqualToLength' })
    expect(raw.headers['x-oss-next-append-position']).toBe('3')
    expect(await outcome(oss.append('users/alice/log2.txt', Buffer.from('x'), { position: '0' }))).toBe(
      'PositionNotEqualToLength',
    )
    expect(stored('users/alice/log2.txt')?.body.toString()).toBe('abc')
  })

  it('when the object was written by PutObject, then 409 ObjectNotAppendable', async () => {
    const oss = client(session(READ_WRITE))
    await oss.put('users/alice/normal.txt', Buffer.from('normal'))
    expect(await outcome(oss.append('users/alice/normal.txt', Buffer.from('x'), { position: '6' }))).toBe(
      'ObjectNotAppendable',
    )
  })

  it('when alice appends under users/bob/, then AccessDenied', async () => {
    expect(await outcome(client(session(READ_WRITE)).append('users/bob/log.txt', Buffer.from('x')))).toBe(
      'AccessDenied',
    )
  })
})

describe('Object tagging: x-oss-tagging needs oss:PutObjectTagging too', () => {
  const tagged = { headers: { 'x-oss-tagging': 'project=alpha&stage=dev' } }

  it('when the session grants PutObject only, then a tagged upload is AccessDenied and an untagged one succeeds', async () => {
    const oss = client(session(['oss:PutObject']))
    expect(await outcome(oss.put('users/alice/t1.txt', Buffer.from('x'), tagged))).toBe('AccessDenied')
    expect(stored('users/alice/t1.txt')).toBeUndefined()
    expect(await outcome(oss.put('users/alice/t1.txt', Buffer.from('x')))).toBe('ok')
  })

  it('when the session grants PutObjectTagging and GetObjectTagging, then the tags are kept, read back and replaced', async () => {
    const oss = client(
      session(['oss:PutObject', 'oss:GetObject', 'oss:PutObjectTagging', 'oss:GetObjectTagging']),
    )
    await oss.put('users/alice/t2.txt', Buffer.from('x'), tagged)
    expect((await oss.getObjectTagging('users/alice/t2.txt')).tag).toEqual({ project: 'alpha', stage: 'dev' })
    await oss.putObjectTagging('users/alice/t2.txt', { project: 'beta' })
    expect((await oss.getObjectTagging('users/alice/t2.txt')).tag).toEqual({ project: 'beta' })
  })

  it('when the session lacks GetObjectTagging, then reading tags is AccessDenied', async () => {
    const oss = client(session(['oss:PutObject', 'oss:GetObject']))
    await oss.put('users/alice/t3.txt', Buffer.from('x'))
    expect(await outcome(oss.getObjectTagging('users/alice/t3.txt'))).toBe('AccessDenied')
    expect(await outcome(oss.putObjectTagging('users/alice/t3.txt', { a: 'b' }))).toBe('AccessDenied')
  })

  it('when a multipart upload or an append carries x-oss-tagging without the right, then AccessDenied', async () => {
    const oss = client(session(['oss:PutObject']))
    expect(await outcome(oss.initMultipartUpload('users/alice/t4.bin', tagged))).toBe('AccessDenied')
    expect(await outcome(oss.append('users/alice/t5.log', Buffer.from('x'), tagged))).toBe('AccessDenied')
  })
})

describe('the same writes on a bucket that still accepts V1', () => {
  it('when alice signs V1 there, then CopyObject and AppendObject are authorized exactly as with V4', async () => {
    const oss = client(session(READ_WRITE, undefined, legacy), legacy, { signing: 'v1' })
    await oss.put('users/alice/a.txt', Buffer.from('a'))
    expect(await outcome(oss.copy('users/alice/b.txt', 'users/alice/a.txt'))).toBe('ok')
    expect(await outcome(oss.copy('users/alice/c.txt', 'users/bob/x'))).toBe('AccessDenied')
    expect(await outcome(oss.append('users/alice/l.txt', Buffer.from('x')))).toBe('ok')
  })
})
