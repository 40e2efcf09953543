// Adapts query parameters and the JSON body into a CredentialAsk (design §6, §6.1): strict, no pollution.
import { z } from 'zod'
import { ACCESS_PRESETS } from '../config/schema.ts'
import { InvalidRequest } from '../errors.ts'
import { type CredentialAsk, FORMATS, type Format } from '../types.ts'

export interface SimulateCheckInput {
  action: string
  bucket?: string
  key?: string
  sourceIp?: string
  secureTransport?: boolean
}

const ASK_FIELDS = ['rule', 'durationSeconds', 'prefix', 'access', 'format'] as const
type AskField = (typeof ASK_FIELDS)[number]

const bodyFields = {
  rule: z.string().min(1).max(64).optional(),
  durationSeconds: z.number().int().optional(),
  prefix: z.string().min(1).max(1024).optional(),
  access: z.enum(ACCESS_PRESETS).optional(),
  format: z.enum(FORMATS).optional(),
}

const checkSchema = z.strictObject({
  action: z.string().regex(/^oss:[A-Za-z]{1,64}$/, 'must be an oss:Action'),
  bucket: z.string().min(1).max(128).optional(),
  key: z.string().max(1024).optional(),
  sourceIp: z.string().min(1).max(64).optional(),
  secureTransport: z.boolean().optional(),
})

const credentialsBody = z.strictObject(bodyFields)
const simulateBody = z.strictObject({ ...bodyFields, checks: z.array(checkSchema).max(50).optional() })

function describe(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid request body'
  if (issue.code === 'unrecognized_keys') {
    // Name the field only when it is plainly a field name: error bodies never echo arbitrary input.
    const key = issue.keys[0] ?? ''
    return /^[A-Za-z][A-Za-z0-9]{0,31}$/.test(key) ? `unknown field "${key}"` : 'unknown field in the body'
  }
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body'
  return `${where}: ${issue.message}`
}

/** The raw query string of the request as sent (after `?`; empty without one). */
export function searchOf(req: { originalUrl: string }): string {
  const q = req.originalUrl.indexOf('?')
  return q === -1 ? '' : req.originalUrl.slice(q + 1)
}

/** Reads the query string strictly: unknown parameters and repeated parameters are 400. */
export function parseQuery(search: string, allowed: readonly string[]): Map<string, string> {
  const params = new URLSearchParams(search)
  const out = new Map<string, string>()
  for (const [key, value] of params) {
    if (!allowed.includes(key))
      throw new InvalidRequest(`unknown query parameter`, { reason: 'unknown query parameter' })
    if (out.has(key)) throw new InvalidRequest(`query parameter "${key}" given more than once`)
    out.set(key, value)
  }
  return out
}

/** The format named by the query alone, when it is readable: for shaping even early errors (appserver). */
export function queryFormat(search: string): Format | undefined {
  const values = new URLSearchParams(search).getAll('format')
  return values.length === 1 && (FORMATS as readonly string[]).includes(values[0] ?? '')
    ? (values[0] as Format)
    : undefined
}

function fromQuery(query: Map<string, string>): Partial<Record<AskField, unknown>> {
  const out: Partial<Record<AskField, unknown>> = {}
  for (const [key, value] of query) {
    if (key === 'durationSeconds') {
      if (!/^\d{1,9}$/.test(value))
        throw new InvalidRequest('durationSeconds must be an integer number of seconds')
      out.durationSeconds = Number(value)
    } else {
      out[key as AskField] = value
    }
  }
  return out
}

function parseBody(raw: Buffer | undefined): Record<string, unknown> {
  if (!raw || raw.length === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new InvalidRequest('the body is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequest('the body must be a JSON object')
  }
  return value as Record<string, unknown>
}

export interface ParsedRequest {
  ask: CredentialAsk
  checks: SimulateCheckInput[]
}

/**
 * Builds the ask from the query (GET, or POST alongside the body) and the JSON body (POST).
 * A field given in both places must agree. Throws InvalidRequest.
 */
export function parseCredentialRequest(
  search: string,
  rawBody: Buffer | undefined,
  options: { simulate: boolean },
): ParsedRequest {
  // A bare request (no query, no body) asks for the default: the common case, without zod's work.
  if (search === '' && (rawBody === undefined || rawBody.length === 0)) {
    return { ask: { format: 'json' }, checks: [] }
  }
  const query = fromQuery(parseQuery(search, ASK_FIELDS))
  const body = parseBody(rawBody)
  const parsed = (options.simulate ? simulateBody : credentialsBody).safeParse(body)
  if (!parsed.success) throw new InvalidRequest(describe(parsed.error))
  const fromBody = parsed.data as Partial<Record<AskField, unknown>> & { checks?: SimulateCheckInput[] }
  const merged: Partial<Record<AskField, unknown>> = { ...query }
  for (const field of ASK_FIELDS) {
    const value = fromBody[field]
    if (value === undefined) continue
    if (merged[field] !== undefined && merged[field] !== value) {
      throw new InvalidRequest(`"${field}" differs between the query and the body`)
    }
    merged[field] = value
  }
  const checked = credentialsBody.safeParse(merged)
  if (!checked.success) throw new InvalidRequest(describe(checked.error))
  const { rule, durationSeconds, prefix, access, format } = checked.data
  const ask: CredentialAsk = {
    format: format ?? 'json',
    ...(rule === undefined ? {} : { rule }),
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(access === undefined ? {} : { access }),
  }
  const checks = (fromBody.checks ?? []).map((c) => {
    const out: SimulateCheckInput = { action: c.action }
    if (c.bucket !== undefined) out.bucket = c.bucket
    if (c.key !== undefined) out.key = c.key
    if (c.sourceIp !== undefined) out.sourceIp = c.sourceIp
    if (c.secureTransport !== undefined) out.secureTransport = c.secureTransport
    return out
  })
  return { ask, checks }
}
