// POST /v1/explain-denial (issue 20): why OSS refused a credential issued to this caller. Authenticated and
// limited like /v1/credentials; the body is validated here, the answer comes from services/explain-denial.
import { type RequestHandler, Router } from 'express'
import { z } from 'zod'
import { InvalidRequest, NotFound } from '../errors.ts'
import type { Audit } from '../services/audit.ts'
import { type ExplainDenial, readQuestion } from '../services/explain-denial.ts'
import { parseQuery, searchOf } from './credential-request.ts'
import { callerOf } from './locals.ts'
import { clientIpOf } from './middleware/client-ip.ts'
import { assertSubjectWithinLimit } from './middleware/rate-limit.ts'
import { sendJson } from './send-json.ts'

export interface ExplainDenialRouteDeps {
  explainDenial: ExplainDenial
  audit: Pick<Audit, 'explained'>
  /** The credential routes' chain: body limit, authentication, per-subject counting. */
  before: readonly RequestHandler[]
}

const questionSchema = z.strictObject({
  accessKeyId: z
    .string()
    .regex(/^[A-Za-z0-9.]{1,128}$/, 'must be an AccessKeyId')
    .optional(),
  action: z
    .string()
    .regex(/^oss:[A-Za-z]{1,64}$/, 'must be an oss:Action')
    .optional(),
  bucket: z.string().min(1).max(128).optional(),
  key: z.string().max(1024).optional(),
  error: z.string().min(1).max(65536).optional(),
})

function readBody(raw: Buffer | undefined): z.infer<typeof questionSchema> {
  if (!raw || raw.length === 0) throw new InvalidRequest('a JSON body is required')
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new InvalidRequest('the body is not valid JSON')
  }
  const parsed = questionSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    // Field names only: an error body never echoes arbitrary input.
    const where = issue?.code === 'unrecognized_keys' ? 'unknown field' : (issue?.path.join('.') ?? 'body')
    throw new InvalidRequest(
      `${where || 'body'}: ${issue?.code === 'unrecognized_keys' ? 'not allowed' : issue?.message}`,
    )
  }
  return parsed.data
}

export function explainDenialRoutes(deps: ExplainDenialRouteDeps): Router {
  const router = Router({ caseSensitive: true, strict: true })
  router.post('/explain-denial', ...deps.before, async (req, res) => {
    const caller = callerOf(res.locals)
    parseQuery(searchOf(req), [])
    const body = readBody(res.locals.rawBody)
    const asked = readQuestion({
      ...(body.accessKeyId === undefined ? {} : { accessKeyId: body.accessKeyId }),
      ...(body.action === undefined ? {} : { action: body.action }),
      ...(body.bucket === undefined ? {} : { bucket: body.bucket }),
      ...(body.key === undefined ? {} : { key: body.key }),
      ...(body.error === undefined ? {} : { error: body.error }),
    })
    // Before the lookup: someone probing AccessKeyIds is limited even though every miss is a 404.
    assertSubjectWithinLimit(res)
    const ctx = { requestId: res.locals.requestId, clientIp: clientIpOf(req) }
    const line = { accessKeyId: asked.accessKeyId, action: asked.action }
    try {
      const answer = await deps.explainDenial(caller, asked)
      deps.audit.explained(caller, { ...line, layer: answer.layer, rule: answer.rule }, ctx)
      sendJson(res, 200, JSON.stringify(answer))
    } catch (err) {
      // Someone asking about keys that are not theirs leaves a trace (the answer itself reveals nothing).
      if (err instanceof NotFound)
        deps.audit.explained(caller, { ...line, layer: 'not_found', rule: null }, ctx)
      throw err
    }
  })
  return router
}
