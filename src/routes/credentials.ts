// POST/GET /v1/credentials and POST /v1/simulate: adapt the request, call the use case, shape the answer.
import { type RequestHandler, Router } from 'express'
import type { TokenVerifier } from '../auth/index.ts'
import { formatIssued, type ServiceLinks, serviceLinks } from '../formats/index.ts'
import type { IssueCredentials } from '../services/issue-credentials.ts'
import type { Simulate } from '../services/simulate.ts'
import { parseCredentialRequest, searchOf } from './credential-request.ts'
import { callerOf } from './locals.ts'
import { clientIpOf } from './middleware/client-ip.ts'
import { assertSubjectWithinLimit } from './middleware/rate-limit.ts'
import { sendJson } from './send-json.ts'

export interface CredentialRouteDeps {
  verifier: TokenVerifier
  issueCredentials: IssueCredentials
  simulate: Simulate | null
  /** Reads the body (413/415) before authentication. */
  readBody: RequestHandler
  /** Counts the caller against its per-subject budget (marks, never answers). */
  perSubject: RequestHandler
  /** grantsUrl and explainDenialUrl of the json format; default relative paths. */
  links?: ServiceLinks
}

/** Verifies the bearer token and puts the Caller in res.locals (401 otherwise). */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    res.locals.caller = await verifier.verify(req.headersDistinct['authorization'])
    next()
  }
}

/** The routes at their full paths, mounted at the app root: no `/v1` prefix to strip and restore per request. */
export function credentialRoutes(deps: CredentialRouteDeps): Router {
  const router = Router({ caseSensitive: true, strict: true })
  const before = [deps.readBody, authenticate(deps.verifier), deps.perSubject]
  const links = deps.links ?? serviceLinks(null)

  const credentials: RequestHandler = async (req, res) => {
    const { ask } = parseCredentialRequest(searchOf(req), res.locals.rawBody, { simulate: false })
    const issued = await deps.issueCredentials.issueCredentials(callerOf(res.locals), ask, {
      requestId: res.locals.requestId,
      clientIp: clientIpOf(req),
      budget: { assertWithin: () => assertSubjectWithinLimit(res) },
    })
    const body = deps.issueCredentials.memo.body(ask.format, issued, () =>
      JSON.stringify(formatIssued(ask.format, issued, links)),
    )
    sendJson(res, 200, body)
  }
  router.get('/v1/credentials', ...before, credentials)
  router.post('/v1/credentials', ...before, credentials)

  const { simulate } = deps
  if (simulate) {
    router.post('/v1/simulate', ...before, (req, res) => {
      const caller = callerOf(res.locals)
      const { ask, checks } = parseCredentialRequest(searchOf(req), res.locals.rawBody, { simulate: true })
      const result = simulate(caller, ask, checks, { clientIp: clientIpOf(req) })
      assertSubjectWithinLimit(res)
      res.status(200).json(result)
    })
  }
  return router
}
