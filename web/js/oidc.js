// Sign-in at the configured OpenID provider: authorization code with PKCE (RFC 7636, S256) as a public client.

/** What must survive the redirect to the issuer and back; kept in sessionStorage for that round trip only. */
const PENDING_KEY = 'sts-vend.console.pending'

/** The path the issuer sends people back to; registered at the issuer as `<console origin>/callback`. */
export const CALLBACK_PATH = '/callback'

/**
 * @typedef {object} OidcSettings
 * @property {string} issuer
 * @property {string} clientId
 * @property {string[]} scopes
 */

/**
 * @typedef {object} Discovery
 * @property {string} issuer
 * @property {string} authorization_endpoint
 * @property {string} token_endpoint
 * @property {string[] | undefined} [code_challenge_methods_supported]
 */

/** @typedef {'discovery' | 'state' | 'refused' | 'token' | 'nonce'} SignInFailure */

/** Why a sign-in did not complete; `reason` picks the message shown. */
export class SignInError extends Error {
  /**
   * @param {SignInFailure} reason
   * @param {string} [detail] the issuer's own `error` code, when it sent one
   */
  constructor(reason, detail) {
    super(reason)
    this.name = 'SignInError'
    this.reason = reason
    this.detail = detail ?? null
  }
}

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** @param {number} size random bytes, returned as base64url */
function randomToken(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)))
}

/** The S256 code challenge of `verifier` (RFC 7636 §4.2). @param {string} verifier */
export async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return base64url(new Uint8Array(digest))
}

/** The redirect URI: this page's own origin, never a host name taken from anywhere else. */
export function redirectUri() {
  return location.origin + CALLBACK_PATH
}

/**
 * The issuer's discovery document; its `issuer` must equal the configured one exactly (mix-up defence).
 * @param {string} issuer
 * @returns {Promise<Discovery>}
 */
async function discover(issuer) {
  /** @type {Response} */
  let res
  try {
    res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
      credentials: 'omit',
    })
  } catch {
    throw new SignInError('discovery')
  }
  /** @type {Partial<Discovery> | null} */
  const doc = res.ok ? await res.json().catch(() => null) : null
  if (
    !doc ||
    doc.issuer !== issuer ||
    typeof doc.authorization_endpoint !== 'string' ||
    typeof doc.token_endpoint !== 'string' ||
    (Array.isArray(doc.code_challenge_methods_supported) &&
      !doc.code_challenge_methods_supported.includes('S256'))
  )
    throw new SignInError('discovery')
  return /** @type {Discovery} */ (doc)
}

/**
 * Sends the browser to the issuer's authorization endpoint. The verifier, state and nonce wait in
 * sessionStorage (this tab only) until the issuer sends the browser back to /callback.
 * @param {OidcSettings} settings
 */
export async function beginSignIn(settings) {
  const doc = await discover(settings.issuer)
  const pending = {
    issuer: settings.issuer,
    verifier: randomToken(32),
    state: randomToken(16),
    nonce: randomToken(16),
  }
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending))
  const url = new URL(doc.authorization_endpoint)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', settings.clientId)
  url.searchParams.set('redirect_uri', redirectUri())
  url.searchParams.set('scope', settings.scopes.join(' '))
  url.searchParams.set('state', pending.state)
  url.searchParams.set('nonce', pending.nonce)
  url.searchParams.set('code_challenge', await codeChallenge(pending.verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  location.assign(url.href)
}

/** True when the page was loaded as the redirect back from the issuer. */
export function isCallback() {
  return location.pathname === CALLBACK_PATH
}

/** Forgets a sign-in in progress (sign-out, or a completed or failed callback). */
export function forgetPending() {
  sessionStorage.removeItem(PENDING_KEY)
}

/**
 * The claims of a JWT, decoded without verifying it: sts-vend verifies the token; the page only reads
 * the nonce and a display name. Throws SignInError('token') when it is not a JWT.
 * @param {string} jwt
 * @returns {Record<string, unknown>}
 */
export function decodeClaims(jwt) {
  const part = jwt.split('.')[1]
  try {
    if (part === undefined) throw new Error('not a JWT')
    const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
    const claims = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
      throw new Error('not an object')
    return claims
  } catch {
    throw new SignInError('token')
  }
}

/**
 * Completes the sign-in on /callback: checks `state` (and `iss`, RFC 9207) against the pending sign-in,
 * redeems the code with the PKCE verifier and checks the ID token's nonce. The code leaves the address
 * bar and the pending state leaves sessionStorage whatever happens.
 * @param {OidcSettings} settings
 * @returns {Promise<{ token: string, claims: Record<string, unknown> }>} the ID token, sent to sts-vend as the bearer token
 */
export async function completeSignIn(settings) {
  const params = new URLSearchParams(location.search)
  const pendingText = sessionStorage.getItem(PENDING_KEY)
  forgetPending()
  history.replaceState(null, '', '/')
  /** @type {{issuer?: unknown, verifier?: unknown, state?: unknown, nonce?: unknown} | null} */
  let pending = null
  try {
    pending = pendingText ? JSON.parse(pendingText) : null
  } catch {
    pending = null
  }
  const error = params.get('error')
  if (error !== null) throw new SignInError('refused', error)
  const code = params.get('code')
  const iss = params.get('iss')
  if (
    !pending ||
    typeof pending.verifier !== 'string' ||
    pending.issuer !== settings.issuer ||
    pending.state !== params.get('state') ||
    (iss !== null && iss !== settings.issuer) ||
    !code
  )
    throw new SignInError('state')
  const doc = await discover(settings.issuer)
  /** @type {Response} */
  let res
  try {
    res = await fetch(doc.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri(),
        client_id: settings.clientId,
        code_verifier: pending.verifier,
      }),
      credentials: 'omit',
    })
  } catch {
    throw new SignInError('token')
  }
  /** @type {{id_token?: unknown, error?: unknown} | null} */
  const body = await res.json().catch(() => null)
  if (!res.ok || typeof body?.id_token !== 'string')
    throw new SignInError('token', typeof body?.error === 'string' ? body.error : undefined)
  const claims = decodeClaims(body.id_token)
  if (claims['nonce'] !== pending.nonce) throw new SignInError('nonce')
  return { token: body.id_token, claims }
}
