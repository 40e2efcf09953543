// The error catalogue of design §7 and toErrorResponse: statuses, headers, and nothing internal on 5xx.
import { describe, expect, it } from 'vitest'
import {
  AccessDenied,
  AppError,
  ERROR_CATALOGUE,
  ERROR_CODES,
  type ErrorCode,
  InvalidRequest,
  InvalidToken,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  ServerError,
  toErrorResponse,
  toRetryAfter,
  UnsupportedMediaType,
  UpstreamError,
  UpstreamUnavailable,
} from '../../src/errors.ts'

const SECRET = 'LTAI-secret-do-not-show Policy=%7B%22Statement%22'

describe('ERROR_CATALOGUE', () => {
  it('when listed, then it holds exactly the codes and statuses of design §7', () => {
    const statuses = Object.fromEntries(ERROR_CODES.map((code) => [code, ERROR_CATALOGUE[code].status]))
    expect(statuses).toEqual({
      invalid_request: 400,
      invalid_token: 401,
      access_denied: 403,
      not_found: 404,
      method_not_allowed: 405,
      payload_too_large: 413,
      unsupported_media_type: 415,
      rate_limited: 429,
      server_error: 500,
      upstream_error: 502,
      upstream_unavailable: 503,
    })
  })

  it.each<[ErrorCode, () => AppError]>([
    ['invalid_request', () => new InvalidRequest('bad durationSeconds')],
    ['invalid_token', () => new InvalidToken()],
    ['access_denied', () => new AccessDenied()],
    ['not_found', () => new NotFound()],
    ['method_not_allowed', () => new MethodNotAllowed(['GET'])],
    ['payload_too_large', () => new PayloadTooLarge()],
    ['unsupported_media_type', () => new UnsupportedMediaType()],
    ['rate_limited', () => new RateLimited(1)],
    ['server_error', () => new ServerError()],
    ['upstream_error', () => new UpstreamError()],
    ['upstream_unavailable', () => new UpstreamUnavailable()],
  ])(
    'when a %s error is built, then its code, status, expose and name follow the catalogue',
    (code, make) => {
      const error = make()
      const status = ERROR_CATALOGUE[code].status
      expect(error).toBeInstanceOf(AppError)
      expect(error.code).toBe(code)
      expect(error.status).toBe(status)
      expect(error.expose).toBe(status < 500)
      expect(error.name).toBe(error.constructor.name)
      const out = toErrorResponse(error, 'req-1')
      expect(out.status).toBe(status)
      expect(out.body.error).toBe(code)
    },
  )
})

describe('toErrorResponse', () => {
  it('when given any error, then the body is exactly {error, error_description, request_id}', () => {
    const out = toErrorResponse(new AccessDenied(), 'abc-123')
    expect(Object.keys(out.body).sort()).toEqual(['error', 'error_description', 'request_id'])
    expect(out.body).toEqual({
      error: 'access_denied',
      error_description: ERROR_CATALOGUE.access_denied.description,
      request_id: 'abc-123',
    })
  })

  it('when a 4xx error has a caller-facing message, then it is shown and its reason is not', () => {
    const out = toErrorResponse(
      new InvalidRequest('durationSeconds must be 900 to 3600', { reason: SECRET }),
      'r',
    )
    expect(out.body.error_description).toBe('durationSeconds must be 900 to 3600')
    expect(JSON.stringify([out.body, out.headers])).not.toContain('LTAI')
  })

  it.each<[string, unknown]>([
    ['a plain Error', new Error(`connect failed: ${SECRET}`)],
    ['a TypeError', new TypeError(`cannot read ${SECRET}`)],
    ['a thrown string', SECRET],
    ['a thrown object', { message: SECRET, code: 'NoPermission' }],
    ['undefined', undefined],
    ['null', null],
  ])(
    'when %s is thrown, then it becomes a 500 server_error with the generic description',
    (_name, thrown) => {
      const out = toErrorResponse(thrown, 'r')
      expect(out.status).toBe(500)
      expect(out.body).toEqual({
        error: 'server_error',
        error_description: ERROR_CATALOGUE.server_error.description,
        request_id: 'r',
      })
      expect(out.headers).toEqual({})
      expect(out.error).toBeInstanceOf(ServerError)
      expect(out.error.cause).toBe(thrown)
      expect(JSON.stringify(out.body)).not.toContain('LTAI')
    },
  )

  it.each<[ErrorCode]>([['server_error'], ['upstream_error'], ['upstream_unavailable']])(
    'when a %s error carries an internal message, then the body has only the catalogue description',
    (code) => {
      const out = toErrorResponse(new AppError(code, SECRET, { reason: SECRET }), 'r')
      expect(out.status).toBe(ERROR_CATALOGUE[code].status)
      expect(out.body.error_description).toBe(ERROR_CATALOGUE[code].description)
      expect(JSON.stringify([out.body, out.headers])).not.toContain('LTAI')
    },
  )

  it.each<[string, InvalidToken, string]>([
    ['no Bearer credential was presented', new InvalidToken({ presented: false }), 'Bearer realm="sts-vend"'],
    [
      'a Bearer credential was presented',
      new InvalidToken({ presented: true }),
      'Bearer realm="sts-vend", error="invalid_token"',
    ],
    [
      'nothing is said (a token was presented)',
      new InvalidToken(),
      'Bearer realm="sts-vend", error="invalid_token"',
    ],
  ])('when %s, then WWW-Authenticate is %s', (_name, error, header) => {
    const out = toErrorResponse(error, 'r')
    expect(out.status).toBe(401)
    expect(out.headers).toEqual({ 'WWW-Authenticate': header })
  })

  it('when two token errors have different causes, then their bodies are identical (no oracle)', () => {
    const expired = toErrorResponse(new InvalidToken({ reason: 'ERR_JWT_EXPIRED' }), 'r')
    const badSig = toErrorResponse(new InvalidToken({ reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }), 'r')
    expect(expired.body).toEqual(badSig.body)
  })

  it.each<[number, string]>([
    [0.2, '1'],
    [0, '1'],
    [-5, '1'],
    [1, '1'],
    [2.5, '3'],
    [59.01, '60'],
    [Number.NaN, '1'],
    [Number.POSITIVE_INFINITY, '1'],
  ])('when retry is due in %s s, then Retry-After is %s (an integer ≥ 1)', (seconds, header) => {
    expect(toErrorResponse(new RateLimited(seconds), 'r').headers).toEqual({ 'Retry-After': header })
    expect(toErrorResponse(new UpstreamUnavailable(seconds), 'r').headers).toEqual({ 'Retry-After': header })
    expect(toRetryAfter(seconds)).toBe(Number(header))
  })

  it('when upstream_unavailable is built without a delay, then Retry-After is 1', () => {
    expect(toErrorResponse(new UpstreamUnavailable(), 'r').headers['Retry-After']).toBe('1')
  })

  it.each<[readonly string[], string]>([
    [['GET'], 'GET'],
    [['GET', 'POST'], 'GET, POST'],
  ])('when a method is not allowed on a path answering %j, then Allow is "%s"', (allow, header) => {
    const out = toErrorResponse(new MethodNotAllowed(allow), 'r')
    expect(out.status).toBe(405)
    expect(out.headers).toEqual({ Allow: header })
  })

  it.each<[AppError]>([
    [new InvalidRequest('x')],
    [new AccessDenied()],
    [new NotFound()],
    [new PayloadTooLarge()],
    [new UnsupportedMediaType()],
    [new ServerError()],
    [new UpstreamError()],
  ])('when the error is %s, then it carries no auth, retry or allow header', (error) => {
    expect(toErrorResponse(error, 'r').headers).toEqual({})
  })
})
