// Dev mode (`sts-vend dev`): the dev users of the picker and tokens from the dev issuer's POST /dev/token.

/**
 * @typedef {object} DevUser
 * @property {string} sub
 * @property {string} label what the picker shows
 * @property {Record<string, unknown>} claims added to the dev token
 */

/**
 * One dev user per rule of the bundled dev config (src/commands/dev-config.ts), so each grant can be seen.
 * @type {readonly DevUser[]}
 */
export const DEV_USERS = [
  {
    sub: 'alice',
    label: 'alice (app user)',
    claims: { name: 'Alice Example', email: 'alice@example.test' },
  },
  {
    sub: 'olivia',
    label: 'olivia (group ossbrowser)',
    claims: { name: 'Olivia Example', groups: ['ossbrowser'] },
  },
  {
    sub: 'pat',
    label: 'pat (partner acme)',
    claims: { name: 'Pat Partner', partner: 'acme' },
  },
]

/**
 * A token for `user` from the dev issuer at `devIssuer`. Throws an Error when the dev issuer cannot be
 * reached or refuses.
 * @param {string} devIssuer
 * @param {DevUser} user
 * @returns {Promise<string>}
 */
export async function devToken(devIssuer, user) {
  const res = await fetch(`${devIssuer}/dev/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub: user.sub, claims: user.claims }),
    credentials: 'omit',
  })
  /** @type {{token?: unknown} | null} */
  const body = await res.json().catch(() => null)
  if (!res.ok || typeof body?.token !== 'string') throw new Error(`the dev issuer answered ${res.status}`)
  return body.token
}
