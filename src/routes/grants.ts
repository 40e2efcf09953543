// GET /v1/grants (issue 20): the grants this token may ask for, authenticated and limited like /v1/credentials.
import { type RequestHandler, Router } from 'express'
import type { ListGrants } from '../services/list-grants.ts'
import { parseQuery, searchOf } from './credential-request.ts'
import { callerOf } from './locals.ts'
import { clientIpOf } from './middleware/client-ip.ts'
import { assertSubjectWithinLimit } from './middleware/rate-limit.ts'
import { sendJson } from './send-json.ts'

export interface GrantRouteDeps {
  listGrants: ListGrants
  /** The credential routes' chain: body limit, authentication, per-subject counting. */
  before: readonly RequestHandler[]
}

export function grantRoutes(deps: GrantRouteDeps): Router {
  const router = Router({ caseSensitive: true, strict: true })
  router.get('/grants', ...deps.before, (req, res) => {
    const caller = callerOf(res.locals)
    // No query parameters: any is 400, as on the credential routes.
    parseQuery(searchOf(req), [])
    const grants = deps.listGrants(caller, { clientIp: clientIpOf(req) })
    assertSubjectWithinLimit(res)
    sendJson(res, 200, JSON.stringify({ grants }))
  })
  return router
}
