// Log redaction (design §9): captured output never holds a secret value, at any depth, in any casing.
import { describe, expect, it } from 'vitest'
import {
  boundLineWriter,
  cachedIsoTime,
  createCapturingLogger,
  isSecretKey,
  redactLine,
  SECRET_FIELDS,
  serializeBindings,
} from '../../src/logger.ts'

/** Wraps `{[field]: value}` in `depth` levels of realistic containers. */
const CONTAINERS = ['res', 'body', 'Credentials', 'data', 'response', 'cause'] as const
function nest(field: string, value: string, depth: number): Record<string, unknown> {
  let obj: Record<string, unknown> = { [field]: value }
  for (let d = depth - 1; d >= 0; d--) obj = { [CONTAINERS[d] ?? `level${d}`]: obj }
  return obj
}

function sentinel(label: string): string {
  return `SENTINEL-${label.replace(/[^A-Za-z0-9]/g, '')}-x9`
}

/** The secret value planted in every realistic shape. */
const S = 'SENTINEL-shape-x9'

describe('logger redaction', () => {
  const depths = [0, 1, 2, 3, 4, 5, 6]
  const cases = SECRET_FIELDS.flatMap((field) => depths.map((depth) => [field, depth] as const))

  it.each(cases)('when %s is logged at depth %i, then its value never reaches the output', (field, depth) => {
    const { logger, raw, lines } = createCapturingLogger()
    const value = sentinel(`${field}${depth}`)
    logger.info({ ...nest(field, value, depth), accessKeyId: 'STS.visible-id' }, 'issued')
    expect(raw).toHaveLength(1)
    expect(raw.join('\n')).not.toContain(value)
    expect(lines[0]).toMatchObject({ ...nest(field, '[redacted]', depth), accessKeyId: 'STS.visible-id' })
  })

  it.each<[string, Record<string, unknown>]>([
    ['{accessKeySecret}', { accessKeySecret: S }],
    ['{creds:{SecurityToken}}', { creds: { SecurityToken: S } }],
    ['{req:{headers:{authorization}}}', { req: { headers: { authorization: `Bearer ${S}` } } }],
    ['{body:{Credentials:{AccessKeySecret}}}', { body: { Credentials: { AccessKeySecret: S } } }],
    [
      '{res:{body:{Credentials:{AccessKeySecret}}}}',
      { res: { body: { Credentials: { AccessKeySecret: S } } } },
    ],
    [
      'the STS SDK response model',
      {
        sts: {
          statusCode: 200,
          body: {
            requestId: 'R1',
            credentials: { accessKeyId: 'STS.id', accessKeySecret: S, securityToken: S },
          },
        },
      },
    ],
    [
      'an STS XML-to-JSON error body nested five deep',
      { err: { response: { body: { data: { Credentials: { AccessKeySecret: S, SecurityToken: S } } } } } },
    ],
    ['credentials in an array', { issued: [{ accessKeySecret: S }, { securityToken: S }] }],
    ['upper-case and header casings', { ACCESSKEYSECRET: S, 'X-Acs-Security-Token': S, Cookie: S }],
    ['a proxy authorization header', { req: { headers: { 'proxy-authorization': `Basic ${S}` } } }],
    [
      'the credential chain env',
      { env: { ALIBABA_CLOUD_ACCESS_KEY_SECRET: S, ALIBABA_CLOUD_SECURITY_TOKEN: S } },
    ],
    ['@alicloud/credentials config', { config: { type: 'bearer', bearerToken: S, clientSecret: S } }],
    ['the ossbrowser fields', { body: { authorizationCode: S, stoken: S, secret: S } }],
    ['aliyun-cli and AppServer formats', { a: { access_key_secret: S, sts_token: S }, b: { StsToken: S } }],
    ['OIDC tokens', { tokens: { id_token: S, access_token: S, refresh_token: S, jwt: S } }],
  ])('when a realistic shape %s is logged, then no secret value is in the output', (_name, obj) => {
    const { logger, raw } = createCapturingLogger()
    logger.warn(obj, 'shape')
    expect(raw).toHaveLength(1)
    expect(raw[0]).not.toMatch(/SENTINEL/)
    expect(raw[0]).toContain('[redacted]')
  })

  it('when a child logger is bound to a secret, then the binding is redacted on every line', () => {
    const { logger, raw } = createCapturingLogger()
    logger.child({ token: 'SENTINEL-child-x9', request_id: 'r-1' }).info('one')
    logger.child({ ctx: { headers: { authorization: 'Bearer SENTINEL-child2-x9' } } }).error('two')
    expect(raw.join('\n')).not.toContain('SENTINEL')
    expect(raw[0]).toContain('"request_id":"r-1"')
  })

  it('when an error with secret properties is logged, then pino keeps its message and type but not the secrets', () => {
    const { logger, lines, raw } = createCapturingLogger()
    const err = Object.assign(new Error('AssumeRole failed'), {
      code: 'NoPermission',
      data: { Credentials: { AccessKeySecret: 'SENTINEL-err-x9' } },
      request: { headers: { 'x-acs-security-token': 'SENTINEL-err2-x9' } },
    })
    logger.error({ err }, 'sts')
    logger.error(err)
    expect(raw.join('\n')).not.toContain('SENTINEL')
    expect(lines[0]?.['err']).toMatchObject({
      type: 'Error',
      message: 'AssumeRole failed',
      code: 'NoPermission',
    })
  })

  it('when nothing secret is logged, then the audit fields are written unchanged', () => {
    const { logger, lines } = createCapturingLogger()
    const fields = {
      event: 'credentials.issued',
      request_id: 'r-1',
      iss: 'corp',
      sub: 'alice',
      rule: 'app-users',
      role_arn: 'acs:ram::1234567890123456:role/oss-app-user',
      session_name: 'app-alice',
      policy_sha256: 'a'.repeat(64),
      duration_seconds: 3600,
      access_key_id: 'STS.NUexample',
      sts_request_id: '6894B13B-6D71-4EF5-88FA-F32781734A7F',
      cache: 'miss',
      client_ip: '127.0.0.1',
      reason: 'token expired (ERR_JWT_EXPIRED)',
    }
    logger.info(fields, 'credentials issued')
    expect(lines[0]).toMatchObject({
      ...fields,
      level: 'info',
      service: 'sts-vend',
      msg: 'credentials issued',
    })
  })

  it('when the level is above a line, then the line is not written', () => {
    const { logger, raw } = createCapturingLogger('warn')
    logger.info({ a: 1 }, 'hidden')
    logger.warn({ a: 2 }, 'shown')
    expect(raw).toHaveLength(1)
  })
})

describe('isSecretKey', () => {
  it.each([
    ...SECRET_FIELDS,
    'ACCESS_KEY_SECRET',
    'Access-Key-Secret',
    'X-OSS-Security-Token',
    'clientSecret',
    'oidcToken',
    'Proxy-Authorization',
    'Set-Cookie',
    'db_password',
  ])('when the key is %s, then it is a secret', (key) => {
    expect(isSecretKey(key)).toBe(true)
  })

  it.each([
    'accessKeyId',
    'AccessKeyId',
    'access_key_id',
    'sts_request_id',
    'session_name',
    'policy_sha256',
    'expiration',
    'Expiration',
    'tokenType',
    'token_file',
    'kid',
    'sub',
    'reason',
  ])('when the key is %s, then it is not a secret (it stays visible)', (key) => {
    expect(isSecretKey(key)).toBe(false)
  })
})

describe('redactLine', () => {
  it('when a line names no secret stem, then it is written byte for byte', () => {
    const line = '{"level":"info","event":"credentials.issued","sub":"alice"}\n'
    expect(redactLine(line)).toBe(line)
  })

  it('when a line mentions a stem only in a value, then its content is unchanged', () => {
    const line = '{"level":"info","reason":"token expired","n":1.5,"ok":true,"x":null,"a":[1,"secret"]}\n'
    expect(JSON.parse(redactLine(line))).toEqual(JSON.parse(line))
  })

  it('when a line has a "__proto__" key, then it stays an ordinary key and its secrets are redacted', () => {
    const out = redactLine('{"__proto__":{"token":"SENTINEL-p-x9"},"x":1}\n')
    expect(out).not.toContain('SENTINEL')
    expect(out).toBe('{"__proto__":{"token":"[redacted]"},"x":1}\n')
  })

  it('when a logged object is nested very deep, then the deep part is cut and nothing throws', () => {
    let deep: Record<string, unknown> = { token: 'SENTINEL-deep-x9' }
    for (let i = 0; i < 200; i++) deep = { d: deep }
    const { logger, raw } = createCapturingLogger()
    logger.info({ deep }, 'deep')
    expect(raw).toHaveLength(1)
    expect(raw[0]).not.toContain('SENTINEL')
    expect(raw[0]).toContain('[too deep]')
  })

  it('when a line cannot be parsed but may hold a secret, then it is withheld, not written raw', () => {
    const out = redactLine('not json token=SENTINEL-raw-x9\n')
    expect(out).not.toContain('SENTINEL')
    expect(JSON.parse(out)).toMatchObject({ level: 'error' })
  })
})

describe('boundLineWriter', () => {
  const bindings = {
    event: 'credentials.issued',
    sub: 'quote" back\\slash \u0001 é 漢 \ud800 lone',
    count: 3600,
    absent: undefined,
    nested: { a: [1, 'two'] },
  }
  const blankTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":""')

  it('when fields are written pre-serialized, then the line is byte for byte what a child with those bindings writes', () => {
    const { logger, raw } = createCapturingLogger('info')
    const write = boundLineWriter(logger)
    logger.child(bindings).info({ request_id: 'r1', cache: 'hit' }, 'credentials issued')
    write(serializeBindings(bindings), { request_id: 'r1', cache: 'hit' }, 'credentials issued')
    write(serializeBindings({ event: 'other' }), { request_id: 'r2' }, 'next')
    logger.info({ request_id: 'r3' }, 'plain')
    expect(raw).toHaveLength(4)
    expect(blankTime(raw[1] ?? '')).toBe(blankTime(raw[0] ?? ''))
    expect(JSON.parse(raw[2] ?? '{}')).toMatchObject({ event: 'other', request_id: 'r2', msg: 'next' })
    expect(JSON.parse(raw[2] ?? '{}')).not.toHaveProperty('sub')
    expect(JSON.parse(raw[3] ?? '{}')).not.toHaveProperty('event')
  })

  it('when a pre-serialized field is a secret, then the line is redacted as any other', () => {
    const { logger, raw, lines } = createCapturingLogger('info')
    boundLineWriter(logger)(serializeBindings({ securityToken: S }), { ok: true }, 'line')
    expect(raw.join('\n')).not.toContain(S)
    expect(lines[0]).toMatchObject({ securityToken: '[redacted]', ok: true })
  })

  it('when the level is above info, then nothing is written', () => {
    const { logger, raw } = createCapturingLogger('warn')
    boundLineWriter(logger)(serializeBindings({ a: 1 }), {}, 'line')
    expect(raw).toEqual([])
  })
})

describe('cachedIsoTime', () => {
  it('when lines share a millisecond, then they share its string; a new millisecond gets its own, as pino isoTime writes it', () => {
    let ms = Date.UTC(2026, 11, 5, 22, 8, 3, 123)
    const time = cachedIsoTime(() => ms)
    const first = time()
    expect(first).toBe(',"time":"2026-12-05T22:08:03.123Z"')
    expect(time()).toBe(first)
    ms += 1
    expect(time()).toBe(',"time":"2026-12-05T22:08:03.124Z"')
    ms -= 5 // a clock stepped back is still written as it reads
    expect(time()).toBe(',"time":"2026-12-05T22:08:03.119Z"')
  })

  it('when the service logger writes a line, then its time is the ISO time of the write', () => {
    const { logger, lines } = createCapturingLogger()
    const before = Date.now()
    logger.info({ event: 'x' }, 'x')
    const at = Date.parse(String(lines[0]?.['time']))
    expect(at).toBeGreaterThanOrEqual(before)
    expect(at).toBeLessThanOrEqual(Date.now())
    expect(lines[0]?.['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })
})
