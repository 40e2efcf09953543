// Assertions shared by the auth suites: how a refused token must look to the caller and to the log.
import { expect } from 'vitest'
import {
  AppError,
  ERROR_CATALOGUE,
  InvalidToken,
  toErrorResponse,
  UpstreamUnavailable,
} from '../../../src/errors.ts'

/** Awaits `promise` and returns what it rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/**
 * Asserts `err` is a 401 `invalid_token` whose precise `reason` is present for the log and absent
 * from what the caller sees: the body is the one generic description for every cause (no oracle),
 * and `WWW-Authenticate` carries `error="invalid_token"` exactly when a Bearer credential was presented.
 */
export function expectInvalidToken(
  err: unknown,
  expected: { reason?: string | RegExp; presented?: boolean } = {},
): InvalidToken {
  expect(err).toBeInstanceOf(InvalidToken)
  const error = err as InvalidToken
  expect(error.code).toBe('invalid_token')
  expect(error.status).toBe(401)
  expect(error.presented).toBe(expected.presented ?? true)
  expect(typeof error.reason).toBe('string')
  expect(error.reason).not.toBe('')
  if (typeof expected.reason === 'string') expect(error.reason).toBe(expected.reason)
  else if (expected.reason) expect(error.reason).toMatch(expected.reason)
  expect(error.message).toBe(ERROR_CATALOGUE.invalid_token.description)
  const out = toErrorResponse(error, 'req-1')
  expect(out.status).toBe(401)
  expect(out.body).toEqual({
    error: 'invalid_token',
    error_description: ERROR_CATALOGUE.invalid_token.description,
    request_id: 'req-1',
  })
  expect(out.headers['WWW-Authenticate']).toBe(
    error.presented ? 'Bearer realm="sts-vend", error="invalid_token"' : 'Bearer realm="sts-vend"',
  )
  expect(JSON.stringify(out.body)).not.toContain(error.reason as string)
  return error
}

/** Asserts `err` is a 503 `upstream_unavailable` with an integer Retry-After ≥ 1 and a log-only reason. */
export function expectUpstreamUnavailable(err: unknown, reason?: string | RegExp): UpstreamUnavailable {
  expect(err).toBeInstanceOf(UpstreamUnavailable)
  const error = err as UpstreamUnavailable
  expect(error.code).toBe('upstream_unavailable')
  expect(error.status).toBe(503)
  expect(Number.isInteger(error.retryAfterSeconds) && error.retryAfterSeconds >= 1).toBe(true)
  if (typeof reason === 'string') expect(error.reason).toBe(reason)
  else if (reason) expect(error.reason).toMatch(reason)
  const out = toErrorResponse(error, 'req-1')
  expect(out.status).toBe(503)
  expect(out.headers['Retry-After']).toBe(String(error.retryAfterSeconds))
  expect(out.body.error_description).toBe(ERROR_CATALOGUE.upstream_unavailable.description)
  return error
}

/** True for any AppError: nothing the verifier throws may be anything else. */
export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}
