// POST/GET /v1/credentials and POST /v1/simulate: adapt the request, call the use case, shape the answer.
import { type Request, type RequestHandler, Router } from 'express'
import type { TokenVerifier } from '../auth/index.ts'
import { formatIssued, type ServiceLinks, serviceLinks } from '../formats/index.ts'
import { assertAskShape } from '../policies/index.ts'
import type { IssueCredentials } from '../services/issue-credentials.ts'
import type { Simulate } from '../services/simulate.ts'
import type { Caller, Format, Grant, Issued, StsCredentials } from '../types.ts'
import { parseCredentialRequest } from './credential-request.ts'
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
    res.locals['caller'] = await verifier.verify(req.headersDistinct['authorization'])
    next()
  }
}

/**
 * Serializes bodies, memoized per (grant, credentials, format). A repeated caller gets the same memoized
 * grant and the same cached credentials (refreshAfter follows from them), so its body is built once; one
 * slot per grant, reused only while the cache still hands out the very same credentials object.
 */
function bodySerializer(links: ServiceLinks): (format: Format, issued: Issued) => string {
  const bodies = new WeakMap<Grant, { credentials: StsCredentials; format: Format; json: string }>()
  return (format, issued) => {
    const slot = bodies.get(issued.grant)
    if (slot && slot.credentials === issued.credentials && slot.format === format) return slot.json
    const json = JSON.stringify(formatIssued(format, issued, links))
    bodies.set(issued.grant, { credentials: issued.credentials, format, json })
    return json
  }
}

function searchOf(req: Request): string {
  const q = req.originalUrl.indexOf('?')
  return q === -1 ? '' : req.originalUrl.slice(q + 1)
}

export function credentialRoutes(deps: CredentialRouteDeps): Router {
  const router = Router({ caseSensitive: true, strict: true })
  const before = [deps.readBody, authenticate(deps.verifier), deps.perSubject]
  const serializedBody = bodySerializer(deps.links ?? serviceLinks(null))

  const credentials: RequestHandler = async (req, res) => {
    const caller = res.locals['caller'] as Caller
    const facts = { requestId: res.locals['requestId'] as string, clientIp: clientIpOf(req) }
    const { ask } = parseCredentialRequest(searchOf(req), res.locals['rawBody'] as Buffer | undefined, {
      simulate: false,
    })
    assertAskShape(ask)
    const grant = deps.issueCredentials.decide(caller, ask, facts)
    assertSubjectWithinLimit(res)
    const issued = await deps.issueCredentials.issue(caller, grant, facts)
    res.locals['issued'] = issued
    sendJson(res, 200, serializedBody(ask.format, issued))
  }
  router.get('/credentials', ...before, credentials)
  router.post('/credentials', ...before, credentials)

  const { simulate } = deps
  if (simulate) {
    router.post('/simulate', ...before, (req, res) => {
      const caller = res.locals['caller'] as Caller
      const { ask, checks } = parseCredentialRequest(
        searchOf(req),
        res.locals['rawBody'] as Buffer | undefined,
        {
          simulate: true,
        },
      )
      assertAskShape(ask)
      const result = simulate(caller, ask, checks, { clientIp: clientIpOf(req) })
      assertSubjectWithinLimit(res)
      res.status(200).json(result)
    })
  }
  return router
}
