// The denial doctor (issue 20, POST /v1/explain-denial): why OSS refused a credential sts-vend issued to
// this caller. It reads the issued-credential index and the stored session policy; it never calls STS.

import { InvalidRequest, NotFound } from '../errors.ts'
import { formatExpiration } from '../formats/time.ts'
import {
  evaluatePolicy,
  OBJECT_ACTIONS,
  ossRequest,
  type PolicyDocument,
  type PolicyStatement,
  PRESETS,
} from '../policies/index.ts'
import type { Caller } from '../types.ts'
import type { IssuedEntry, IssuedIndex } from './issued-index.ts'
import { type OssErrorFacts, parseOssError } from './oss-error.ts'

/** The body: `{accessKeyId, action, bucket?, key?}`, or `{error: "<OSS error XML>"}` with any of them alongside. */
export interface DenialQuestion {
  accessKeyId?: string
  action?: string
  bucket?: string
  key?: string
  error?: string
}

export type DenialLayer = 'session-policy' | 'outside-session-policy' | 'expired'

/** Design §14's answer: exactly these fields. */
export interface DenialAnswer {
  layer: DenialLayer
  rule: string
  action: string
  /** The object key or listing prefix asked about; null for bucket-level actions. */
  key: string | null
  reason: string
  fix: string
}

/** A question read and completed from the OSS error: what to look up and evaluate. */
export interface ResolvedQuestion {
  accessKeyId: string
  action: string
  bucket: string | undefined
  key: string | undefined
  facts: OssErrorFacts | null
}

export type ExplainDenial = (caller: Caller, asked: ResolvedQuestion) => Promise<DenialAnswer>

/**
 * Fine-grained OSS error codes (the `EC` element and `x-oss-ec` header) whose meaning Alibaba documents,
 * each with what to do. From the pages at https://www.alibabacloud.com/help/en/oss/user-guide/<EC>
 * (0003-00000201, 0003-00000204, 0003-00000401, 0002-00000006, 0002-00000008, 0002-00000073,
 * 0002-00000206). Alibaba warns EC values may change: they only sharpen the reason, never decide the layer.
 */
export const KNOWN_EC: Readonly<Record<string, { meaning: string; fix: string }>> = {
  '0003-00000201': {
    meaning: 'an explicit Deny in a RAM policy (the role’s own policy) matched the request',
    fix: 'ask the administrator to remove or narrow the Deny statement in the role’s RAM policy',
  },
  '0003-00000204': {
    meaning: 'an explicit Deny in the bucket policy or a RAM policy matched the request',
    fix: 'ask the administrator to check the Deny statements of the bucket policy and the role’s RAM policy',
  },
  '0003-00000401': {
    meaning: 'the VPC policy of the network the request came from does not allow this bucket',
    fix: 'ask the network administrator to allow the bucket in the VPC policy, or call from another network',
  },
  '0002-00000006': {
    meaning: 'the security token does not belong to this AccessKeyId',
    fix: 'send the SecurityToken that came with this AccessKeyId (all three values from one response)',
  },
  '0002-00000008': {
    meaning: 'the security token does not belong to this AccessKeyId',
    fix: 'send the SecurityToken that came with this AccessKeyId (all three values from one response)',
  },
  '0002-00000073': {
    meaning: 'the OSSAccessKeyId of the signed URL is malformed',
    fix: 'sign the URL with the SDK (signatureUrlV4) using the AccessKeyId exactly as issued',
  },
  '0002-00000206': {
    meaning: 'the AccessKeyId in the V4 Credential field is malformed',
    fix: 'let the SDK sign the request, with the AccessKeyId exactly as issued',
  },
}

/** OSS error codes of requests refused before any policy was evaluated (authentication). */
const AUTH_CODES: Readonly<Record<string, { meaning: string; fix: string }>> = {
  SecurityTokenExpired: {
    meaning: 'OSS found the security token expired although sts-vend’s clock says it is still valid',
    fix: 'check the client’s clock, and fetch new credentials once refreshAfter passes',
  },
  InvalidSecurityToken: {
    meaning: 'OSS did not accept the security token',
    fix: 'send the SecurityToken that came with this AccessKeyId, unmodified',
  },
  InvalidAccessKeyId: {
    meaning: 'OSS did not recognise the AccessKeyId',
    fix: 'send the AccessKeyId exactly as issued, with its SecurityToken',
  },
  SignatureDoesNotMatch: {
    meaning:
      'the request signature was not made with this credential’s secret, or the request changed after signing',
    fix: 'sign with the AccessKeySecret issued with this AccessKeyId, and send the request exactly as signed',
  },
  RequestTimeTooSkewed: {
    meaning: 'the request’s date is too far from OSS’s time',
    fix: 'correct the client’s clock',
  },
}

/** The table's own entry for `key` (never an inherited property such as `constructor`). */
function lookup<T>(table: Readonly<Record<string, T>>, key: string | null | undefined): T | undefined {
  return key !== null && key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined
}

const ACTION = /^oss:[A-Za-z]{1,64}$/
const objectActions: ReadonlySet<string> = new Set(OBJECT_ACTIONS)

/**
 * Reads the question, filling what is missing from the OSS error body (fields given alongside win).
 * Throws InvalidRequest (400) when it is not an OSS error, or the AccessKeyId or action stay unknown.
 */
export function readQuestion(question: DenialQuestion): ResolvedQuestion {
  let facts: OssErrorFacts | null = null
  if (question.error !== undefined) {
    facts = parseOssError(question.error)
    if (!facts) throw new InvalidRequest('error: not an OSS error response (<Error>…</Error>)')
  }
  const accessKeyId = question.accessKeyId ?? facts?.accessKeyId ?? undefined
  const action = question.action ?? facts?.action ?? undefined
  const bucket = question.bucket ?? facts?.bucket ?? undefined
  const key = question.key ?? facts?.key ?? undefined
  if (accessKeyId === undefined)
    throw new InvalidRequest('accessKeyId: required (the error does not name the AccessKeyId)')
  if (action === undefined) throw new InvalidRequest('action: required (the error does not say which action)')
  if (!ACTION.test(action)) throw new InvalidRequest('action: must be an oss:Action')
  if (objectActions.has(action) && key === undefined)
    throw new InvalidRequest('key: required for an object action')
  return { accessKeyId, action, bucket, key, facts }
}

/** The policy with its network conditions (acs:SourceIp, acs:SecureTransport) taken out. */
function withoutNetworkConditions(policy: PolicyDocument): PolicyDocument {
  const network = (key: string) => /^acs:(SourceIp|SecureTransport)$/i.test(key)
  const Statement = policy.Statement.map((s): PolicyStatement => {
    if (!s.Condition) return s
    const Condition: NonNullable<PolicyStatement['Condition']> = {}
    for (const [op, entries] of Object.entries(s.Condition)) {
      const kept = Object.fromEntries(Object.entries(entries).filter(([k]) => !network(k)))
      if (Object.keys(kept).length > 0) Condition[op] = kept
    }
    return { ...s, Condition }
  })
  return { ...policy, Statement }
}

const list = (v: PolicyStatement['Action']): string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : [...v]

/** Every action an Allow statement of the policy names. */
function allowedActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))]
}

/** The smallest preset (in design §5's order) whose actions include `action`, or null. */
function presetWith(action: string): string | null {
  const wanted = action.toLowerCase()
  for (const spec of Object.values(PRESETS)) {
    const actions = [...spec.object, ...spec.listing, ...(spec.bucketInfo ? ['oss:GetBucketInfo'] : [])]
    if (actions.some((a) => a.toLowerCase() === wanted)) return spec.name
  }
  return null
}

/** Why the session policy refuses, naming the nearest allowed bucket, prefix or action. */
function sessionPolicyAnswer(
  entry: IssuedEntry,
  policy: PolicyDocument,
  asked: { action: string; bucket: string; key: string | null },
): Pick<DenialAnswer, 'reason' | 'fix'> {
  const { action, bucket, key } = asked
  const allowed = allowedActions(policy)
  const where = entry.target.accessPoint
    ? `access point alias ${entry.target.bucket}`
    : `bucket ${entry.target.bucket}`
  if (bucket !== entry.target.bucket)
    return {
      reason: `the grant of rule ${entry.rule} covers ${where} only, not ${bucket}`,
      fix: `send the request to ${entry.target.bucket}, under ${entry.prefix}`,
    }
  if (!allowed.some((a) => a.toLowerCase() === action.toLowerCase())) {
    const preset = presetWith(action)
    return {
      reason: `the grant of rule ${entry.rule} (access ${entry.access}: ${allowed.join(', ')}) does not include ${action}`,
      fix: `ask for a grant whose access includes ${action}${preset ? ` (the smallest preset with it is ${preset})` : ''}; GET /v1/grants lists what you may ask for`,
    }
  }
  const single = !entry.prefix.endsWith('/')
  return {
    reason: `${action} is allowed ${single ? `on the key ${entry.prefix} only` : `under ${entry.prefix} only`}; ${JSON.stringify(key ?? '')} is outside it`,
    fix: single
      ? `use the key ${entry.prefix}, or ask for credentials without that narrowing`
      : `use a key under ${entry.prefix} (the nearest allowed prefix)`,
  }
}

/** The network conditions the allowing statement carries, in words. */
function networkNotes(statement: PolicyStatement | undefined): string[] {
  const notes: string[] = []
  const ip = statement?.Condition?.['IpAddress']?.['acs:SourceIp']
  if (ip !== undefined) notes.push(`only from ${[ip].flat().join(', ')} (SourceIp)`)
  if (statement?.Condition?.['Bool']?.['acs:SecureTransport'] !== undefined) notes.push('only over HTTPS')
  return notes
}

/** The grant allows it: what else OSS evaluates, sharpened by the error's code and EC when known. */
function outsideAnswer(
  entry: IssuedEntry,
  asked: { action: string; key: string | null },
  statement: PolicyStatement | undefined,
  facts: OssErrorFacts | null,
): Pick<DenialAnswer, 'reason' | 'fix'> {
  const on = asked.key === null ? '' : ` on ${JSON.stringify(asked.key)}`
  const notes = networkNotes(statement)
  const parts = [
    statement
      ? `the grant of rule ${entry.rule} allows ${asked.action}${on}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}, so OSS refused it outside the session policy`
      : `OSS refused the request before evaluating any policy (the grant of rule ${entry.rule} would not allow ${asked.action}${on} either)`,
  ]
  const ec = lookup(KNOWN_EC, facts?.ec)
  const code = lookup(AUTH_CODES, facts?.code)
  if (facts?.ec) parts.push(`EC ${facts.ec}: ${ec?.meaning ?? 'not a code sts-vend knows'}`)
  if (code) parts.push(`${facts?.code}: ${code.meaning}`)
  if (!ec && !code)
    parts.push(
      `check the role's own RAM policy, the bucket policy, ${entry.target.accessPoint ? 'the access point policy and its network origin, ' : ''}the request's source IP and HTTPS, and that the token had not expired`,
    )
  if (facts?.requestId) parts.push(`OSS RequestId ${facts.requestId}`)
  const generic = `${notes.length > 0 ? `send the request ${notes.join(' and ')}; if it was, ` : ''}ask the administrator to allow ${asked.action} in the role's policy and the bucket${entry.target.accessPoint ? ' and access point' : ''} policy`
  return { reason: parts.join('; '), fix: ec?.fix ?? code?.fix ?? generic }
}

/**
 * Builds the denial doctor. It answers only about credentials issued to the calling token's (issuer,
 * subject); any other AccessKeyId — someone else's, never issued here, or long gone — is NotFound (404),
 * the same answer either way. Read the question with readQuestion first (400s).
 */
export function createExplainDenial(deps: { index: IssuedIndex; now?: () => Date }): ExplainDenial {
  const now = deps.now ?? (() => new Date())
  return async (caller, asked) => {
    const entry = await deps.index.find(asked.accessKeyId)
    if (!entry || entry.issuer !== caller.issuer || entry.subject !== caller.subject) throw new NotFound()
    const { request, bucket, key } = ossRequest(entry.target, {
      action: asked.action,
      ...(asked.bucket === undefined ? {} : { bucket: asked.bucket }),
      ...(asked.key === undefined ? {} : { key: asked.key }),
    })
    const base = { rule: entry.rule, action: asked.action, key }
    if (now().getTime() >= entry.expiration.getTime())
      return {
        layer: 'expired',
        ...base,
        reason: `the credential expired at ${formatExpiration(entry.expiration)}`,
        fix: 'fetch new credentials (POST /v1/credentials) and refresh them once refreshAfter passes',
      }
    const policy = JSON.parse(entry.policy) as PolicyDocument
    const decision = evaluatePolicy(withoutNetworkConditions(policy), request)
    const beforePolicy = lookup(AUTH_CODES, asked.facts?.code) !== undefined
    if (decision.decision !== 'allow' && !beforePolicy)
      return {
        layer: 'session-policy',
        ...base,
        ...sessionPolicyAnswer(entry, policy, { ...asked, bucket, key }),
      }
    // Refused before any policy (authentication): no allowing statement when the grant lacks it too.
    const statement =
      decision.decision === 'allow' && decision.statement !== null
        ? policy.Statement[decision.statement]
        : undefined
    return { layer: 'outside-session-policy', ...base, ...outsideAnswer(entry, base, statement, asked.facts) }
  }
}
