// One STS request as the verifiers see it: method, path, decoded query and form parameters, headers, raw body.
import { stsError } from './errors.ts'

/** A parsed STS request. Parameter names and values are decoded; headers are lower-cased. */
export interface StsCall {
  method: string
  pathname: string
  query: ReadonlyArray<readonly [string, string]>
  /** Parameters of an `application/x-www-form-urlencoded` body (the credentials ram_role_arn provider uses one). */
  form: ReadonlyArray<readonly [string, string]>
  headers: Readonly<Record<string, string | undefined>>
  body: Buffer
}

/** Builds an StsCall from the raw request parts. */
export function parseStsCall(
  method: string,
  rawUrl: string,
  rawHeaders: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): StsCall {
  const url = new URL(rawUrl, 'http://sts.emulator')
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(rawHeaders)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value
  }
  const contentType = headers['content-type'] ?? ''
  const form = /^application\/x-www-form-urlencoded\b/i.test(contentType)
    ? [...new URLSearchParams(body.toString('utf8')).entries()]
    : []
  return { method, pathname: url.pathname, query: [...url.searchParams.entries()], form, headers, body }
}

/**
 * The request parameters: query and form together. A name given twice (in either place) is refused with
 * `InvalidParameter`, so the signed value and the value acted on can never differ.
 */
export function callParameters(call: StsCall): Map<string, string> {
  const params = new Map<string, string>()
  for (const [name, value] of [...call.query, ...call.form]) {
    if (params.has(name)) throw stsError('InvalidParameter', `The parameter ${name} is given more than once.`)
    params.set(name, value)
  }
  return params
}

/** The action the request names: `x-acs-action` (ACS3) or the `Action` parameter (RPC). */
export function callAction(call: StsCall, params: ReadonlyMap<string, string>): string | undefined {
  return call.headers['x-acs-action'] ?? params.get('Action')
}
