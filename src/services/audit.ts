// The audit trail of design §9: one line per credential decision, never a secret, never a refused value.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { AppError } from '../errors.ts'
import { formatExpiration } from '../formats/time.ts'
import { boundLineWriter, type Logger, serializeBindings } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { sourceIdentityFor } from '../policies/index.ts'
import type { Caller, Grant, Issued, StsCredentials } from '../types.ts'

export interface Audit {
  issued(caller: Caller, issued: Issued, ctx: { requestId: string; clientIp: string }): void
  denied(
    error: AppError,
    ctx: { requestId: string; clientIp: string; caller?: Caller | undefined; route: string },
  ): void
  /** One `denial.explained` line per explain-denial question: who asked about which key, and the layer (or not_found). */
  explained(
    caller: Caller,
    answer: { accessKeyId: string; layer: string; rule: string | null; action: string },
    ctx: { requestId: string; clientIp: string },
  ): void
}

const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$/

/** A subject is logged as is only when it is a safe value; otherwise its hash (it may be the refused value). */
function subjectFields(caller: Caller | undefined): Record<string, string> {
  if (!caller) return {}
  // The full value rule (charset and no ".."): a subject refused as a template value is never logged raw (SEC-053).
  if (SAFE_VALUE.test(caller.subject) && !caller.subject.includes('..'))
    return { iss: caller.issuer, sub: caller.subject }
  return { iss: caller.issuer, sub_sha256: createHash('sha256').update(caller.subject).digest('hex') }
}

/** Writes the audit lines and counts each decision in the metrics (issuances by rule, denials by code). */
/** The name (never the value) of a claim a template refused. */
function claimField(error: AppError): Record<string, string> {
  const claim = (error as AppError & { claim?: unknown }).claim
  return typeof claim === 'string' ? { claim } : {}
}

/** `denied_by: denylist` when the deny list refused (the error carries `deniedBy`). */
function deniedByField(error: AppError): Record<string, string> {
  const by = (error as AppError & { deniedBy?: unknown }).deniedBy
  return typeof by === 'string' ? { denied_by: by } : {}
}

/** Credentials whose audit fields stay serialized (about 0.5 KiB each): the most recently served ones. */
export const HOT_AUDIT_LINES = 256

/**
 * One miss in this many keeps its serialized fields in the hot set: a credential served again and again
 * is soon kept, while round-robin traffic over many callers (every request a miss) does not set and
 * evict an LRU entry per request (issue 22).
 */
export const AUDIT_ADMIT_EVERY = 8

interface Hot {
  ruleId: string
  issuer: string
  subject: string
  /** The fixed fields, serialized as a child's bindings (serializeBindings). */
  bound: string
}

/** Every fixed field of a `credentials.issued` line for these credentials, serialized in the line's order. */
function fixedFields(caller: Caller, grant: Grant, credentials: StsCredentials): string {
  return serializeBindings({
    event: 'credentials.issued',
    iss: caller.issuer,
    sub: caller.subject,
    rule: grant.ruleId,
    role_arn: grant.roleArn,
    session_name: grant.sessionName,
    policy_sha256: grant.policySha256,
    duration_seconds: grant.durationSeconds,
    expiration: formatExpiration(credentials.expiration),
    access_key_id: credentials.accessKeyId,
    sts_request_id: credentials.requestId,
    source_identity: sourceIdentityFor(caller.subject),
  })
}

export function createAudit(logger: Logger, metrics?: Pick<Metrics, 'issued' | 'denied'>): Audit {
  // The fixed fields of a credentials.issued line are serialized in one JSON.stringify and written as a
  // child's bindings would be (boundLineWriter): no pino child per line. The most recently served
  // credentials keep theirs serialized (an LRU, not one per warm caller: issue 22), so a repeated
  // caller's line costs only request_id, cache, source and client_ip. Rule, issuer and subject are
  // checked because one credentials object may serve two rules.
  const hot = new LRUCache<StsCredentials, Hot>({ max: HOT_AUDIT_LINES })
  const write = boundLineWriter(logger)
  let misses = 0
  return {
    issued(caller, { grant, credentials, cache, source }, ctx) {
      metrics?.issued(grant.ruleId, cache)
      const slot = hot.get(credentials)
      let bound: string
      if (
        slot &&
        slot.ruleId === grant.ruleId &&
        slot.issuer === caller.issuer &&
        slot.subject === caller.subject
      ) {
        bound = slot.bound
      } else {
        bound = fixedFields(caller, grant, credentials)
        if (++misses % AUDIT_ADMIT_EVERY === 0)
          hot.set(credentials, {
            ruleId: grant.ruleId,
            issuer: caller.issuer,
            subject: caller.subject,
            bound,
          })
      }
      write(
        bound,
        {
          request_id: ctx.requestId,
          cache,
          source: source ?? (cache === 'hit' ? 'local' : 'miss'),
          client_ip: ctx.clientIp,
        },
        'credentials issued',
      )
    },
    explained(caller, answer, ctx) {
      logger.info(
        {
          event: 'denial.explained',
          request_id: ctx.requestId,
          ...subjectFields(caller),
          access_key_id: answer.accessKeyId,
          layer: answer.layer,
          rule: answer.rule,
          action: answer.action,
          client_ip: ctx.clientIp,
        },
        'denial explained',
      )
    },
    denied(error, ctx) {
      metrics?.denied(error.code)
      logger.info(
        {
          event: 'credentials.denied',
          request_id: ctx.requestId,
          code: error.code,
          reason: error.reason ?? error.message,
          ...claimField(error),
          ...deniedByField(error),
          ...subjectFields(ctx.caller),
          client_ip: ctx.clientIp,
          route: ctx.route,
        },
        'credentials denied',
      )
    },
  }
}
