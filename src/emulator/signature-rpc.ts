// Legacy RPC HMAC-SHA1 signature verification (protocol reference §1.6): the SDK's `v2` mode and the ram_role_arn provider.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { percentEncode } from './signature-acs3.ts'

/**
 * `METHOD&%2F&pct(sorted k=v joined by &)` over every parameter but `Signature`: the query and the form
 * body together, as both the SDK and `@alicloud/credentials` sign them.
 */
export function rpcStringToSign(method: string, params: ReadonlyMap<string, string>): string {
  const canonical = [...params.entries()]
    .filter(([k]) => k !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&')
  return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`
}

/** base64(HMAC-SHA1(secret + "&", stringToSign)). */
export function rpcSignature(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64')
}

/** True when `signature` signs `params` (minus Signature) with `secret`. Constant-time comparison. */
export function verifyRpcSignature(
  method: string,
  params: ReadonlyMap<string, string>,
  secret: string,
): { ok: boolean; stringToSign: string } {
  const stringToSign = rpcStringToSign(method, params)
  const expected = Buffer.from(rpcSignature(stringToSign, secret))
  const given = Buffer.from(params.get('Signature') ?? '')
  return { ok: expected.length === given.length && timingSafeEqual(expected, given), stringToSign }
}
