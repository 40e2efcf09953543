// Checks an AssumeRole success body before anything is cached or handed out (security cases SEC-109..111).
import { UpstreamError } from '../errors.ts'
import type { AssumeRoleInput, StsCredentials } from '../types.ts'

const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/
// STS and our clock may disagree a little; an Expiration beyond duration + this is not believable.
const CLOCK_SLACK_MS = 5 * 60 * 1000

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
const text = (value: unknown): string => (typeof value === 'string' ? value : '')

function refuse(reason: string): never {
  throw new UpstreamError({ reason: `STS AssumeRole answer refused: ${reason}` })
}

/**
 * Turns the SDK's AssumeRole body (camelCase fields) into StsCredentials for `input`, or throws
 * UpstreamError (`upstream_error`) when the answer cannot be trusted: AccessKeyId without the `STS.`
 * prefix, an empty secret or token, an Expiration that is not `YYYY-MM-DDTHH:mm:ss[.sss]Z`, already past,
 * or later than the asked duration allows, or an AssumedRoleUser.Arn for another role or session.
 * Expiration is truncated to whole seconds, the precision STS uses. The checked ARN is not kept: a cached
 * credential holds only what callers are sent and the audit line names (issue 22).
 */
export function toStsCredentials(body: unknown, input: AssumeRoleInput, now: Date): StsCredentials {
  const b = record(body)
  const c = record(b['credentials'])
  const accessKeyId = text(c['accessKeyId'])
  const accessKeySecret = text(c['accessKeySecret'])
  const securityToken = text(c['securityToken'])
  const rawExpiration = text(c['expiration'])
  if (!accessKeyId.startsWith('STS.') || accessKeyId.length <= 4) refuse('AccessKeyId is not an STS key')
  if (accessKeySecret === '') refuse('AccessKeySecret is empty')
  if (securityToken === '') refuse('SecurityToken is missing')
  const parsed = EXPIRATION.test(rawExpiration) ? Date.parse(rawExpiration) : Number.NaN
  if (Number.isNaN(parsed)) refuse('Expiration is not a UTC timestamp')
  const expiration = new Date(Math.floor(parsed / 1000) * 1000)
  if (expiration.getTime() <= now.getTime()) refuse('Expiration is in the past')
  if (expiration.getTime() > now.getTime() + input.durationSeconds * 1000 + CLOCK_SLACK_MS)
    refuse('Expiration is later than DurationSeconds allows')
  const assumedRoleArn = text(record(b['assumedRoleUser'])['arn'])
  const expectedArn = `${input.roleArn}/${input.roleSessionName}`
  if (assumedRoleArn.toLowerCase() !== expectedArn.toLowerCase())
    refuse('AssumedRoleUser.Arn names another role or session')
  return {
    accessKeyId,
    accessKeySecret,
    securityToken,
    expiration,
    requestId: /^[A-Za-z0-9-]{1,80}$/.test(text(b['requestId'])) ? text(b['requestId']) : '',
  }
}
