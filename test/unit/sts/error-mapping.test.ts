import { describe, expect, it } from 'vitest'
import { classifyStsError } from '../../../src/sts/error-mapping.ts'

const sdkError = (name: string, fields: Record<string, unknown>) =>
  Object.assign(new Error(`${fields['code']}: POST http://sts/?Policy=SECRET-POLICY failed`), {
    name,
    ...fields,
  })

describe('classifyStsError', () => {
  it.each<[string, string, unknown, { code: string; statusCode: number | null }]>([
    [
      'ThrottlingError',
      'throttled',
      sdkError('ThrottlingError', { code: 'Throttling.User', statusCode: 400, retryAfter: 250 }),
      { code: 'Throttling.User', statusCode: 400 },
    ],
    [
      'a Throttling.Api code on a plain error',
      'throttled',
      sdkError('ClientError', { code: 'Throttling.Api', statusCode: 400 }),
      { code: 'Throttling.Api', statusCode: 400 },
    ],
    [
      'HTTP 429',
      'throttled',
      sdkError('ClientError', { code: 'TooMany', statusCode: 429 }),
      { code: 'TooMany', statusCode: 429 },
    ],
    [
      'ServerError 500',
      'unavailable',
      sdkError('ServerError', { code: 'InternalError', statusCode: 500 }),
      { code: 'InternalError', statusCode: 500 },
    ],
    [
      'ServerError 503',
      'unavailable',
      sdkError('ServerError', { code: 'ServiceUnavailable', statusCode: 503 }),
      { code: 'ServiceUnavailable', statusCode: 503 },
    ],
    [
      'an unparseable body (SyntaxError)',
      'unavailable',
      new SyntaxError('Unexpected token < in JSON'),
      { code: 'SyntaxError', statusCode: null },
    ],
    [
      'a read timeout',
      'unavailable',
      sdkError('RequestTimeoutError', {}),
      { code: 'RequestTimeoutError', statusCode: null },
    ],
    [
      'ECONNRESET',
      'unavailable',
      sdkError('Error', { code: 'ECONNRESET' }),
      { code: 'ECONNRESET', statusCode: null },
    ],
    [
      'ECONNREFUSED',
      'unavailable',
      sdkError('Error', { code: 'ECONNREFUSED' }),
      { code: 'ECONNREFUSED', statusCode: null },
    ],
    [
      'ENOTFOUND',
      'unavailable',
      sdkError('Error', { code: 'ENOTFOUND' }),
      { code: 'ENOTFOUND', statusCode: null },
    ],
    [
      'a credential chain failure',
      'unavailable',
      new Error('unable to get credentials from any of the providers'),
      { code: 'Error', statusCode: null },
    ],
    [
      'NoPermission',
      'rejected',
      sdkError('ClientError', { code: 'NoPermission', statusCode: 403 }),
      { code: 'NoPermission', statusCode: 403 },
    ],
    [
      'EntityNotExist.Role',
      'rejected',
      sdkError('ClientError', { code: 'EntityNotExist.Role', statusCode: 404 }),
      { code: 'EntityNotExist.Role', statusCode: 404 },
    ],
    [
      'InvalidParameter.PolicyGrammar',
      'rejected',
      sdkError('ClientError', { code: 'InvalidParameter.PolicyGrammar', statusCode: 400 }),
      { code: 'InvalidParameter.PolicyGrammar', statusCode: 400 },
    ],
    [
      'MissingParameter.RoleArn',
      'rejected',
      sdkError('ClientError', { code: 'MissingParameter.RoleArn', statusCode: 400 }),
      { code: 'MissingParameter.RoleArn', statusCode: 400 },
    ],
    [
      'InvalidAccessKeyId.NotFound',
      'rejected',
      sdkError('ClientError', { code: 'InvalidAccessKeyId.NotFound', statusCode: 404 }),
      { code: 'InvalidAccessKeyId.NotFound', statusCode: 404 },
    ],
    [
      'SignatureDoesNotMatch',
      'rejected',
      sdkError('ClientError', { code: 'SignatureDoesNotMatch', statusCode: 400 }),
      { code: 'SignatureDoesNotMatch', statusCode: 400 },
    ],
    [
      'a legacy openapi-client ResponseError',
      'rejected',
      sdkError('ResponseError', { code: 'NoPermission', data: { statusCode: 403, RequestId: 'RID-9' } }),
      { code: 'NoPermission', statusCode: 403 },
    ],
    ['a thrown string', 'unavailable', 'boom', { code: 'Unknown', statusCode: null }],
  ])('when the error is %s, then it is %s', (_, kind, err, expected) => {
    expect(classifyStsError(err)).toMatchObject({ kind, ...expected })
  })

  it('when a ThrottlingError carries retryAfter, then retryAfterMs is that value', () => {
    const err = sdkError('ThrottlingError', { code: 'Throttling.User', statusCode: 400, retryAfter: 1500 })
    expect(classifyStsError(err).retryAfterMs).toBe(1500)
  })

  it('when requestId is the string "undefined" (as the SDK sets it), then it is null; a real id is kept', () => {
    expect(
      classifyStsError(sdkError('ClientError', { code: 'X', statusCode: 400, requestId: 'undefined' }))
        .requestId,
    ).toBeNull()
    expect(
      classifyStsError(sdkError('ClientError', { code: 'X', statusCode: 400, requestId: 'A-1' })).requestId,
    ).toBe('A-1')
  })

  it('when a code is not identifier-like, then it is not copied (nothing from a body reaches a log verbatim)', () => {
    const failure = classifyStsError(
      sdkError('ClientError', { code: 'x {"Policy": "secret"}', statusCode: 400 }),
    )
    expect(failure.code).toBe('ClientError')
    expect(JSON.stringify(failure)).not.toContain('SECRET-POLICY')
  })
})
