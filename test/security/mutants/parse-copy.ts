// A test-only copy of the request parser's entry with a planted bug (P6): the query is percent-decoded by hand first.
import { parseCredentialRequest } from '../../../src/routes/credential-request.ts'

type Parse = typeof parseCredentialRequest

/** The real parser, or (planted) one that runs decodeURIComponent over the query: a URIError, not a 400, on `%`. */
export function makeParser(planted: boolean): Parse {
  if (!planted) return parseCredentialRequest
  return (search, rawBody, options) => parseCredentialRequest(decodeURIComponent(search), rawBody, options)
}
