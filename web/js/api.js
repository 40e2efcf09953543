// The sts-vend calls the console makes: GET /v1/credentials?format=ossbrowser and GET /v1/grants, and what errors mean to a person.

/**
 * The `ossbrowser` format of design §6.1.
 * @typedef {object} OssbrowserGrant
 * @property {string} accessKeyId
 * @property {string} accessKeySecret
 * @property {string} securityToken
 * @property {string} expiration
 * @property {string} refreshAfter
 * @property {string} region
 * @property {string} endpoint
 * @property {string} bucket
 * @property {string | null} accessPoint
 * @property {string} prefix
 * @property {string} access
 * @property {string} rule
 * @property {string} presetPath
 * @property {string} authorizationCode
 */

/**
 * @typedef {object} Problem
 * @property {'unauthorized' | 'denied' | 'limited' | 'unavailable' | 'failed' | 'network'} kind
 * @property {number} status 0 when the service could not be reached
 * @property {string | null} code the API's `error` code
 * @property {string | null} requestId
 * @property {number | null} retryAfter seconds, from Retry-After
 */

/** @typedef {{ grant: OssbrowserGrant, problem?: undefined } | { grant?: undefined, problem: Problem }} GrantResult */

const STRING_FIELDS = /** @type {const} */ ([
  'accessKeyId',
  'accessKeySecret',
  'securityToken',
  'expiration',
  'refreshAfter',
  'region',
  'endpoint',
  'bucket',
  'prefix',
  'access',
  'rule',
  'presetPath',
  'authorizationCode',
])

/** @param {unknown} body @returns {body is OssbrowserGrant} */
function isGrant(body) {
  if (typeof body !== 'object' || body === null) return false
  const record = /** @type {Record<string, unknown>} */ (body)
  return (
    STRING_FIELDS.every((name) => typeof record[name] === 'string') &&
    (record['accessPoint'] === null || typeof record['accessPoint'] === 'string')
  )
}

/** @param {string | null} value @returns {number | null} */
function seconds(value) {
  if (value === null || !/^\d{1,6}$/.test(value)) return null
  return Math.max(1, Number(value))
}

/**
 * One entry of GET /v1/grants (design §14).
 * @typedef {object} GrantSummary
 * @property {string} rule
 * @property {string} [bucket]
 * @property {{ name: string, alias: string }} [accessPoint]
 * @property {string} region
 * @property {string} prefix
 * @property {string} access
 * @property {{ default: number, max: number }} durationSeconds
 * @property {string[]} formats
 * @property {boolean} selectable
 */

/** @typedef {{ grants: GrantSummary[], problem?: undefined } | { grants?: undefined, problem: Problem }} GrantsResult */

/** @param {unknown} body @returns {body is { grants: GrantSummary[] }} */
function isGrantList(body) {
  if (typeof body !== 'object' || body === null) return false
  const grants = /** @type {Record<string, unknown>} */ (body)['grants']
  return (
    Array.isArray(grants) &&
    grants.every(
      (g) =>
        typeof g === 'object' &&
        g !== null &&
        typeof g.rule === 'string' &&
        typeof g.prefix === 'string' &&
        typeof g.access === 'string' &&
        typeof g.selectable === 'boolean',
    )
  )
}

/** @param {string} path @param {string} token @returns {Promise<Response | null>} null: unreachable */
async function get(path, token) {
  try {
    return await fetch(path, {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      credentials: 'omit',
    })
  } catch {
    return null
  }
}

const NETWORK_PROBLEM = /** @type {Problem} */ ({
  kind: 'network',
  status: 0,
  code: null,
  requestId: null,
  retryAfter: null,
})

/**
 * Asks sts-vend for the caller's credentials in the ossbrowser format, for `rule` when given (a
 * selectable grant the person picked). Never throws: a refusal or a network failure comes back as a Problem.
 * @param {string} token the bearer token (an ID token from the issuer, or a dev token)
 * @param {string | null} [rule]
 * @returns {Promise<GrantResult>}
 */
export async function fetchGrant(token, rule = null) {
  const query = new URLSearchParams({ format: 'ossbrowser' })
  if (rule !== null) query.set('rule', rule)
  const res = await get(`/v1/credentials?${query}`, token)
  if (!res) return { problem: NETWORK_PROBLEM }
  /** @type {unknown} */
  const body = await res.json().catch(() => null)
  if (res.ok && isGrant(body)) return { grant: body }
  return { problem: problemOf(res, body) }
}

/**
 * The grants the caller may ask for (GET /v1/grants), in rule order. Never throws.
 * @param {string} token
 * @returns {Promise<GrantsResult>}
 */
export async function fetchGrants(token) {
  const res = await get('/v1/grants', token)
  if (!res) return { problem: NETWORK_PROBLEM }
  /** @type {unknown} */
  const body = await res.json().catch(() => null)
  if (res.ok && isGrantList(body)) return { grants: body.grants }
  return { problem: problemOf(res, body) }
}

/**
 * @param {Response} res
 * @param {unknown} body
 * @returns {Problem}
 */
function problemOf(res, body) {
  const record =
    typeof body === 'object' && body !== null ? /** @type {Record<string, unknown>} */ (body) : {}
  const code = typeof record['error'] === 'string' ? record['error'] : null
  const requestId =
    res.headers.get('x-request-id') ??
    (typeof record['request_id'] === 'string' ? record['request_id'] : null)
  /** @type {Problem['kind']} */
  const kind =
    res.status === 401
      ? 'unauthorized'
      : res.status === 403
        ? 'denied'
        : res.status === 429
          ? 'limited'
          : res.status === 503
            ? 'unavailable'
            : 'failed'
  return {
    kind,
    status: res.status,
    code,
    requestId,
    retryAfter: seconds(res.headers.get('retry-after')),
  }
}

/**
 * What to tell the person about `problem`: a sentence, and whether the request id matters to an admin.
 * @param {Problem} problem
 * @returns {{ text: string, showRequestId: boolean }}
 */
export function describeProblem(problem) {
  const wait = problem.retryAfter ?? 1
  switch (problem.kind) {
    case 'unauthorized':
      return {
        text: 'Your sign-in has expired or was not accepted. Please sign in again.',
        showRequestId: false,
      }
    case 'denied':
      return {
        text: 'No rule grants you access to OSS. If you need access, give your administrator the request id below.',
        showRequestId: true,
      }
    case 'limited':
      return { text: `Too many requests. Try again in ${wait} s.`, showRequestId: false }
    case 'unavailable':
      return { text: `The service is temporarily unavailable. Try again in ${wait} s.`, showRequestId: false }
    case 'network':
      return {
        text: 'sts-vend could not be reached. Check your connection and try again.',
        showRequestId: false,
      }
    default:
      return {
        text: `The request failed (${problem.code ?? `HTTP ${problem.status}`}). If it keeps failing, give your administrator the request id below.`,
        showRequestId: true,
      }
  }
}
