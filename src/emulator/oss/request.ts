// An OSS request as the emulator reads it: the decoded path, the query in order, headers and the body.
import type { IncomingHttpHeaders } from 'node:http'
import { OssError } from './errors.ts'

/** One query parameter; `bare` when it had no `=` (`?uploads`). */
export interface QueryParam {
  name: string
  value: string
  bare: boolean
}

export interface OssRequest {
  method: string
  /** The percent-decoded path, starting with `/`. */
  path: string
  query: readonly QueryParam[]
  headers: IncomingHttpHeaders
  body: Buffer
  /** A PostObject's parsed form, once read. */
  form?: PostForm
}

/** An object's largest single upload the emulator keeps in memory (OSS itself allows 5 GB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new OssError('InvalidURI')
  }
}

/**
 * Splits a raw request target into its decoded path and query. `+` stays `+`: ali-oss sends a plus
 * as `%2B` and a space as `%20`. Throws OssError InvalidURI on bad percent-encoding, InvalidArgument
 * on a parameter given twice (it could be signed one way and acted on another).
 */
export function parseTarget(rawUrl: string): { path: string; query: QueryParam[] } {
  const at = rawUrl.indexOf('?')
  const rawPath = at === -1 ? rawUrl : rawUrl.slice(0, at)
  const rawQuery = at === -1 ? '' : rawUrl.slice(at + 1)
  const path = decode(rawPath)
  if (!path.startsWith('/')) throw new OssError('InvalidURI')
  const query: QueryParam[] = []
  const seen = new Set<string>()
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    const name = decode(eq === -1 ? piece : piece.slice(0, eq))
    const value = eq === -1 ? '' : decode(piece.slice(eq + 1))
    if (seen.has(name))
      throw new OssError('InvalidArgument', `The parameter ${name} is given more than once.`)
    seen.add(name)
    query.push({ name, value, bare: eq === -1 })
  }
  return { path, query }
}

/** The value of query parameter `name`, or undefined. */
export function queryValue(query: readonly QueryParam[], name: string): string | undefined {
  return query.find((p) => p.name === name)?.value
}

export function hasQuery(query: readonly QueryParam[], name: string): boolean {
  return query.some((p) => p.name === name)
}

/** One header's value (the first, when repeated) or undefined. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** A parsed PostObject form: its fields, the object key and the file. */
export interface PostForm {
  fields: Map<string, string>
  key: string
  file: Buffer
}
