// The console page: sign in (OIDC with PKCE, or a dev user), show the grant, copy fields; all state in memory.
import { describeProblem, fetchGrant, fetchGrants } from './api.js'
import { DEV_USERS, devToken } from './dev.js'
import { logonFields, summaryFields, timeLeft } from './fields.js'
import { beginSignIn, completeSignIn, decodeClaims, forgetPending, isCallback, SignInError } from './oidc.js'

/** @typedef {import('./api.js').OssbrowserGrant} OssbrowserGrant */
/** @typedef {import('./api.js').Problem} Problem */
/** @typedef {import('./api.js').GrantSummary} GrantSummary */

/**
 * What /console/config.json says.
 * @typedef {object} Settings
 * @property {string | null} issuer
 * @property {string | null} clientId
 * @property {string[]} scopes
 * @property {boolean} devMode
 * @property {string | null} devIssuer
 */

const MASK = '•••••••••••• (hidden)'

/** Everything sensitive lives here, in this module's memory only: never in storage, never in the URL. */
const session = {
  /** @type {string | null} */ token: null,
  /** @type {OssbrowserGrant | null} */ grant: null,
  /** The rule the person picked, or null for what a plain request gets. */
  /** @type {string | null} */ rule: null,
  /** @type {GrantSummary[]} */ grants: [],
  /** @type {Record<string, string>} */ fields: {},
  /** @type {Set<string>} */ revealed: new Set(),
  /** @type {number | undefined} */ ticker: undefined,
  /** @type {number | undefined} */ retryTimer: undefined,
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id)
  if (!(el instanceof type)) throw new Error(`the page has no #${id}`)
  return el
}

const ui = {
  session: byId('session', HTMLElement),
  who: byId('who', HTMLElement),
  refresh: byId('refresh', HTMLButtonElement),
  signOut: byId('sign-out', HTMLButtonElement),
  main: byId('main', HTMLElement),
  notice: byId('notice', HTMLElement),
  noticeText: byId('notice-text', HTMLElement),
  noticeRequest: byId('notice-request', HTMLElement),
  noticeRequestId: byId('notice-request-id', HTMLElement),
  status: byId('status', HTMLElement),
  signIn: byId('sign-in', HTMLElement),
  oidc: byId('oidc', HTMLElement),
  issuerHost: byId('issuer-host', HTMLElement),
  signInButton: byId('sign-in-button', HTMLButtonElement),
  devForm: byId('dev-form', HTMLFormElement),
  devUser: byId('dev-user', HTMLSelectElement),
  grants: byId('grants', HTMLElement),
  grantsList: byId('grants-list', HTMLUListElement),
  grant: byId('grant', HTMLElement),
  grantTitle: byId('grant-title', HTMLElement),
  expiration: byId('expiration', HTMLTimeElement),
  countdown: byId('countdown', HTMLElement),
}

/** @param {string} text */
function announce(text) {
  ui.status.textContent = text
}

/**
 * @param {string} text
 * @param {string | null} [requestId] shown for the administrator when given
 */
function showNotice(text, requestId = null) {
  ui.noticeText.textContent = text
  ui.noticeRequestId.textContent = requestId ?? ''
  ui.noticeRequest.hidden = requestId === null
  ui.notice.hidden = false
}

function clearNotice() {
  ui.notice.hidden = true
  ui.noticeText.textContent = ''
  ui.noticeRequestId.textContent = ''
}

/** @param {boolean} busy */
function setBusy(busy) {
  ui.main.setAttribute('aria-busy', String(busy))
  ui.refresh.disabled = busy || session.retryTimer !== undefined
  ui.signInButton.disabled = busy
  for (const control of ui.devForm.elements) if (control instanceof HTMLButtonElement) control.disabled = busy
}

function tick() {
  if (!session.grant) return
  const left = timeLeft(session.grant.expiration, Date.now())
  ui.countdown.textContent = `(${left})`
  if (left === 'expired' && session.ticker !== undefined) {
    window.clearInterval(session.ticker)
    session.ticker = undefined
    showNotice('These credentials have expired. Press Refresh to get new ones.')
  }
}

function renderValues() {
  for (const el of document.querySelectorAll('[data-value]')) {
    const name = /** @type {HTMLElement} */ (el).dataset['value'] ?? ''
    const secret = /** @type {HTMLElement} */ (el).dataset['secret'] === 'true'
    const value = session.fields[name] ?? ''
    el.textContent = secret && !session.revealed.has(name) && value !== '' ? MASK : value
  }
  for (const button of document.querySelectorAll('[data-reveal]')) {
    const name = /** @type {HTMLElement} */ (button).dataset['reveal'] ?? ''
    button.setAttribute('aria-pressed', String(session.revealed.has(name)))
    button.textContent = session.revealed.has(name) ? 'Hide' : 'Show'
  }
}

/** @param {OssbrowserGrant} grant */
function showGrant(grant) {
  session.grant = grant
  session.fields = logonFields(grant)
  const summary = summaryFields(grant)
  for (const el of document.querySelectorAll('[data-summary]'))
    el.textContent = summary[/** @type {HTMLElement} */ (el).dataset['summary'] ?? ''] ?? ''
  ui.expiration.dateTime = grant.expiration
  ui.expiration.textContent = new Date(grant.expiration).toLocaleString()
  renderValues()
  tick()
  if (session.ticker === undefined) session.ticker = window.setInterval(tick, 1000)
  ui.grant.hidden = false
}

function hideGrant() {
  if (session.ticker !== undefined) window.clearInterval(session.ticker)
  session.ticker = undefined
  session.grant = null
  session.fields = {}
  session.revealed.clear()
  for (const el of document.querySelectorAll('[data-value], [data-summary]:not(dt)')) el.textContent = ''
  ui.expiration.textContent = ''
  ui.expiration.dateTime = ''
  ui.countdown.textContent = ''
  renderValues()
  ui.grant.hidden = true
}

/** @param {Problem} problem */
function showProblem(problem) {
  const { text, showRequestId } = describeProblem(problem)
  showNotice(text, showRequestId ? (problem.requestId ?? 'unknown') : null)
  if (problem.kind === 'unauthorized') {
    endSession()
    return
  }
  if ((problem.kind === 'limited' || problem.kind === 'unavailable') && problem.retryAfter !== null) {
    window.clearTimeout(session.retryTimer)
    ui.refresh.disabled = true
    session.retryTimer = window.setTimeout(() => {
      session.retryTimer = undefined
      ui.refresh.disabled = false
    }, problem.retryAfter * 1000)
  }
}

/** @param {GrantSummary} g */
function grantWhere(g) {
  const target = g.accessPoint ? `access point ${g.accessPoint.name}` : (g.bucket ?? '')
  return `${target} · ${g.prefix} · ${g.access}`
}

/** Lists the grants; the one in use is marked, every other selectable one gets a button to pick it. */
function renderGrants() {
  ui.grantsList.replaceChildren()
  session.grants.forEach((g, i) => {
    const item = document.createElement('li')
    const name = document.createElement('strong')
    name.textContent = g.rule
    const where = document.createElement('span')
    where.className = 'grant-where'
    where.textContent = grantWhere(g)
    item.append(name, where)
    const inUse = session.grant?.rule === g.rule
    if (inUse) {
      const mark = document.createElement('span')
      mark.className = 'in-use'
      mark.textContent = 'in use'
      item.append(mark)
    } else if (g.selectable || i === 0) {
      const pick = document.createElement('button')
      pick.type = 'button'
      pick.textContent = 'Use this grant'
      pick.setAttribute('aria-label', `Use this grant: ${g.rule}`)
      pick.addEventListener('click', () => {
        session.rule = i === 0 ? null : g.rule
        // The button goes away with the list it was in: focus moves to the grant now shown.
        void loadGrant().then(() => ui.grantTitle.focus())
      })
      item.append(pick)
    }
    ui.grantsList.append(item)
  })
  ui.grants.hidden = session.grants.length === 0
}

async function loadGrants() {
  const token = session.token
  if (!token) return
  const result = await fetchGrants(token)
  if (session.token !== token) return
  session.grants = result.grants ?? []
  renderGrants()
}

async function loadGrant() {
  const token = session.token
  if (!token) return
  setBusy(true)
  announce('Fetching your credentials…')
  const result = await fetchGrant(token, session.rule)
  setBusy(false)
  // Signed out (or in as someone else) while the answer was on its way: it belongs to nobody here.
  if (session.token !== token) return
  if (result.grant) {
    clearNotice()
    const first = session.grant === null
    showGrant(result.grant)
    renderGrants()
    announce(first ? 'Your credentials are ready.' : 'Credentials refreshed.')
    if (first) ui.grantTitle.focus()
  } else {
    announce('')
    showProblem(result.problem)
  }
}

/**
 * @param {string} token
 * @param {string} who
 */
async function startSession(token, who) {
  session.token = token
  ui.who.textContent = who
  ui.session.hidden = false
  ui.signIn.hidden = true
  await Promise.all([loadGrant(), loadGrants()])
}

/** Forgets the token and the credentials and shows the sign-in again. */
function endSession() {
  session.token = null
  session.rule = null
  session.grants = []
  ui.grantsList.replaceChildren()
  ui.grants.hidden = true
  window.clearTimeout(session.retryTimer)
  session.retryTimer = undefined
  forgetPending()
  hideGrant()
  ui.who.textContent = ''
  ui.session.hidden = true
  ui.refresh.disabled = false
  ui.signIn.hidden = false
}

/** @param {Record<string, unknown>} claims */
function displayName(claims) {
  for (const name of ['name', 'preferred_username', 'email', 'sub']) {
    const value = claims[name]
    if (typeof value === 'string' && value !== '') return value
  }
  return 'unknown user'
}

/** @param {unknown} err */
function signInMessage(err) {
  const reason = err instanceof SignInError ? err.reason : 'token'
  // The detail comes from the address bar or the issuer: shown only when it looks like an OAuth error code.
  const code = err instanceof SignInError ? err.detail : null
  const detail = code && /^[a-z_]{1,40}$/.test(code) ? ` (${code})` : ''
  switch (reason) {
    case 'discovery':
      return 'The sign-in service could not be reached or is misconfigured. Try again later.'
    case 'refused':
      return `The sign-in was cancelled or refused${detail}. Sign in again.`
    case 'state':
      return 'This sign-in response does not belong to a sign-in started here. Sign in again.'
    case 'nonce':
      return 'The sign-in response failed its integrity check. Sign in again.'
    default:
      return `The sign-in could not be completed${detail}. Sign in again.`
  }
}

/** @param {string} name */
async function copyField(name) {
  const value = session.fields[name]
  if (!value) return
  const label = document
    .querySelector(`[data-copy="${name}"]`)
    ?.getAttribute('aria-label')
    ?.replace(/^Copy /, '')
  try {
    await navigator.clipboard.writeText(value)
    announce(`${label ?? name} copied to the clipboard.`)
  } catch {
    announce(`Copying was not allowed by the browser: show the value, select it and copy it by hand.`)
  }
}

/** @param {Settings} settings */
function setUpSignIn(settings) {
  if (settings.issuer && settings.clientId) {
    const oidc = { issuer: settings.issuer, clientId: settings.clientId, scopes: settings.scopes }
    ui.issuerHost.textContent = new URL(settings.issuer).host
    ui.oidc.hidden = false
    ui.signInButton.addEventListener('click', () => {
      clearNotice()
      setBusy(true)
      announce('Taking you to the sign-in page…')
      beginSignIn(oidc).catch((err) => {
        setBusy(false)
        announce('')
        showNotice(signInMessage(err))
      })
    })
  }
  const devIssuer = settings.devIssuer
  if (settings.devMode && devIssuer) {
    for (const user of DEV_USERS) ui.devUser.add(new Option(user.label, user.sub))
    ui.devForm.hidden = false
    ui.devForm.addEventListener('submit', (event) => {
      event.preventDefault()
      const user = DEV_USERS.find((u) => u.sub === ui.devUser.value)
      if (!user) return
      clearNotice()
      setBusy(true)
      devToken(devIssuer, user)
        .then((token) => {
          setBusy(false)
          return startSession(token, displayName(decodeClaims(token)))
        })
        .catch(() => {
          setBusy(false)
          showNotice('The dev issuer could not be reached. Is sts-vend dev still running?')
        })
    })
  }
}

/** @returns {Promise<Settings>} */
async function loadSettings() {
  const res = await fetch('/console/config.json', { cache: 'no-store' })
  if (!res.ok) throw new Error(`config.json answered ${res.status}`)
  return res.json()
}

async function boot() {
  /** @type {Settings} */
  let settings
  try {
    settings = await loadSettings()
  } catch {
    showNotice('The console could not load its settings. Reload the page.')
    return
  }
  setUpSignIn(settings)
  ui.refresh.addEventListener('click', () => {
    void loadGrant()
  })
  ui.signOut.addEventListener('click', () => {
    endSession()
    clearNotice()
    announce('Signed out. The credentials were removed from this page.')
    ;(ui.oidc.hidden ? ui.devUser : ui.signInButton).focus()
  })
  for (const button of document.querySelectorAll('[data-copy]'))
    button.addEventListener(
      'click',
      () => void copyField(/** @type {HTMLElement} */ (button).dataset['copy'] ?? ''),
    )
  for (const button of document.querySelectorAll('[data-reveal]'))
    button.addEventListener('click', () => {
      const name = /** @type {HTMLElement} */ (button).dataset['reveal'] ?? ''
      if (session.revealed.has(name)) session.revealed.delete(name)
      else session.revealed.add(name)
      renderValues()
    })

  if (isCallback() && settings.issuer && settings.clientId) {
    setBusy(true)
    announce('Completing the sign-in…')
    try {
      const { token, claims } = await completeSignIn({
        issuer: settings.issuer,
        clientId: settings.clientId,
        scopes: settings.scopes,
      })
      setBusy(false)
      await startSession(token, displayName(claims))
      return
    } catch (err) {
      setBusy(false)
      announce('')
      showNotice(signInMessage(err))
    }
  } else if (isCallback()) {
    history.replaceState(null, '', '/')
  }
  endSession()
}

void boot()
