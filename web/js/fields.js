// What the page shows of a grant: the ossbrowser STS logon fields, the grant summary, and the expiry countdown.

/** @typedef {import('./api.js').OssbrowserGrant} OssbrowserGrant */

/**
 * The values ossbrowser's STS logon form takes (reference/alibaba-protocol.md §6.1), plus the
 * authorization code, keyed by the `data-value` names of index.html.
 * @param {OssbrowserGrant} grant
 * @returns {Record<string, string>}
 */
export function logonFields(grant) {
  return {
    accessKeyId: grant.accessKeyId,
    accessKeySecret: grant.accessKeySecret,
    securityToken: grant.securityToken,
    presetPath: grant.presetPath,
    region: `oss-${grant.region}`,
    endpoint: `https://${grant.endpoint}`,
    authorizationCode: grant.authorizationCode,
  }
}

/**
 * The grant summary, keyed by the `data-summary` names of index.html.
 * @param {OssbrowserGrant} grant
 * @returns {Record<string, string>}
 */
export function summaryFields(grant) {
  return {
    target: grant.accessPoint ? `${grant.accessPoint} (alias ${grant.bucket})` : grant.bucket,
    targetKind: grant.accessPoint ? 'Access point' : 'Bucket',
    region: grant.region,
    prefix: grant.prefix,
    access: grant.access,
    rule: grant.rule,
  }
}

/**
 * "59 min 58 s left", "1 h 2 min left" or "expired", for the time from `now` to `expiration`.
 * @param {string} expiration
 * @param {number} now epoch milliseconds
 */
export function timeLeft(expiration, now) {
  const total = Math.floor((Date.parse(expiration) - now) / 1000)
  if (!(total > 0)) return 'expired'
  const h = Math.floor(total / 3600)
  const min = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h > 0) return `${h} h ${min} min left`
  if (min > 0) return `${min} min ${s} s left`
  return `${s} s left`
}
