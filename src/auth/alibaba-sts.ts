// Sends a checked GetCallerIdentity request, unchanged, to the issuer's configured STS endpoint (issue 21).
// The platform fetch, not the SDK: the caller signed; we only carry the request.
import { readCapped } from '../read-capped.ts'
import type { SignedIdentityRequest } from './alibaba-request.ts'

/** Most of an STS answer that is read; a longer one is a failure of STS, not of the caller. */
const MAX_ANSWER_BYTES = 64 * 1024

/** STS's answer: its HTTP status and the parsed JSON body (undefined when it is not JSON). */
export interface StsAnswer {
  status: number
  body: Record<string, unknown> | undefined
}

/** The network could not deliver an answer (refused, reset, timeout, oversized): 503 upstream. */
export class StsUnreachable extends Error {
  constructor(readonly reason: string) {
    super(`STS unreachable: ${reason}`)
    this.name = 'StsUnreachable'
  }
}

export type StsForwarder = (
  endpoint: string,
  protocol: 'https' | 'http',
  signed: SignedIdentityRequest,
) => Promise<StsAnswer>

/**
 * Sends `signed` to `<protocol>://<endpoint>/` with its headers and no body; redirects are not followed.
 * The target is only ever the configured endpoint: fetch sets Host from it, and the Host the caller
 * signed was checked equal to it first, so STS verifies the signature over the same value. Never logs
 * (the Authorization header is the caller's).
 *
 * @throws StsUnreachable on a network failure, a timeout after `timeoutMs`, or an oversized answer.
 */
export function createStsForwarder(timeoutMs = 5000, fetchImpl: typeof fetch = fetch): StsForwarder {
  return async (endpoint, protocol, signed) => {
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'))
    let response: Response
    try {
      response = await fetchImpl(`${protocol}://${endpoint}/`, {
        method: signed.method,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw new StsUnreachable(errorCode(err))
    }
    let bytes: Uint8Array | undefined
    try {
      bytes = await readCapped(response, MAX_ANSWER_BYTES)
    } catch (err) {
      throw new StsUnreachable(errorCode(err))
    }
    if (bytes === undefined) throw new StsUnreachable('answer_too_large')
    return { status: response.status, body: parseJson(Buffer.from(bytes)) }
  }
}

function errorCode(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout'
  const code = (err as { cause?: { code?: unknown } }).cause?.code
  return typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'network'
}

function parseJson(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
