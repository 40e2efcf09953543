// The XML OSS speaks: escaping, element builders, the `<Error>` body, and reading a CompleteMultipartUpload body.
import { OssError } from './errors.ts'

/** Escapes text for an XML element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  )
}

/** A child of an element: text (escaped), a number or boolean, nested elements, or nothing (omitted). */
export type XmlValue = string | number | boolean | null | undefined | XmlNode[]
export type XmlNode = readonly [name: string, value: XmlValue]

function render(nodes: readonly XmlNode[]): string {
  return nodes
    .map(([name, value]) => {
      if (value === null || value === undefined) return ''
      const inner = Array.isArray(value) ? render(value) : escapeXml(String(value))
      return `<${name}>${inner}</${name}>`
    })
    .join('')
}

/** A whole document with the XML declaration OSS sends: `root` holding child elements or text. */
export function xmlDocument(root: string, content: XmlValue): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render([[root, content ?? '']])}`
}

/** OSS's `<Error>` body: Code, Message, RequestId, HostId, then the error's extra fields. */
export function errorXml(error: OssError, requestId: string, hostId: string): string {
  return xmlDocument('Error', [
    ['Code', error.code],
    ['Message', error.message],
    ['RequestId', requestId],
    ['HostId', hostId],
    ...Object.entries(error.fields).map(([k, v]): XmlNode => [k, v]),
  ])
}

const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  )

/** One part named in a CompleteMultipartUpload body. */
export interface CompletedPart {
  partNumber: number
  etag: string
}

const MAX_PARTS = 10_000
const OPEN = '<CompleteMultipartUpload>'
const CLOSE = '</CompleteMultipartUpload>'

/**
 * Reads `<CompleteMultipartUpload><Part><PartNumber>N</PartNumber><ETag>"…"</ETag></Part>…`, scanning
 * once from left to right (no backtracking over the body). Throws OssError MalformedXML when the body
 * is not that shape, names no part or more than 10000.
 */
export function parseCompleteMultipartUpload(body: string): CompletedPart[] {
  const text = body
    .trim()
    .replace(/^<\?xml[^>]*\?>/, '')
    .trim()
  if (!text.startsWith(OPEN) || !text.endsWith(CLOSE)) throw new OssError('MalformedXML')
  const inner = text.slice(OPEN.length, text.length - CLOSE.length)
  const parts: CompletedPart[] = []
  let at = 0
  for (;;) {
    while (at < inner.length && /\s/.test(inner.charAt(at))) at++
    if (at >= inner.length) break
    const end = inner.indexOf('</Part>', at)
    if (!inner.startsWith('<Part>', at) || end === -1 || parts.length === MAX_PARTS)
      throw new OssError('MalformedXML')
    const part = inner.slice(at + '<Part>'.length, end)
    const number = /<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/.exec(part)
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(part)
    if (!number?.[1] || etag?.[1] === undefined) throw new OssError('MalformedXML')
    parts.push({ partNumber: Number(number[1]), etag: unescapeXml(etag[1]).trim() })
    at = end + '</Part>'.length
  }
  if (parts.length === 0) throw new OssError('MalformedXML')
  return parts
}

/** The inner text of `<root>…</root>` (after an optional XML declaration), or MalformedXML. */
function rootInner(body: string, root: string): string {
  const text = body
    .trim()
    .replace(/^<\?xml[^>]*\?>/, '')
    .trim()
  const open = new RegExp(`^<${root}(\\s[^>]*)?>`).exec(text)
  const close = `</${root}>`
  if (!open || !text.endsWith(close)) throw new OssError('MalformedXML')
  return text.slice(open[0].length, text.length - close.length)
}

/**
 * Splits `text` into its child elements, left to right without backtracking: `[name, inner]` pairs.
 * Only elements without attributes or nesting of the same name are read (enough for OSS's request
 * bodies). Throws OssError MalformedXML on anything else, or past `max` children.
 */
function childElements(text: string, max: number): [string, string][] {
  const out: [string, string][] = []
  let at = 0
  for (;;) {
    while (at < text.length && /\s/.test(text.charAt(at))) at++
    if (at >= text.length) return out
    const open = /^<([A-Za-z][\w-]*)>/.exec(text.slice(at, at + 80))
    const name = open?.[1]
    const end = name ? text.indexOf(`</${name}>`, at) : -1
    if (!open || !name || end === -1 || out.length === max) throw new OssError('MalformedXML')
    out.push([name, text.slice(at + open[0].length, end)])
    at = end + name.length + 3
  }
}

/** The object tags of a PutObjectTagging body `<Tagging><TagSet><Tag><Key/><Value/></Tag>…`. Throws MalformedXML, InvalidTag. */
export function parseTagging(body: string): Record<string, string> {
  const top = childElements(rootInner(body, 'Tagging'), 1)
  const [tagSetName, tagSet] = top[0] ?? ['', '']
  if (tagSetName !== 'TagSet') throw new OssError('MalformedXML')
  const pairs: [string, string][] = []
  for (const [name, inner] of childElements(tagSet, MAX_TAGS + 1)) {
    if (name !== 'Tag') throw new OssError('MalformedXML')
    const fields = new Map(childElements(inner, 2))
    const key = fields.get('Key')
    if (key === undefined) throw new OssError('MalformedXML')
    pairs.push([unescapeXml(key), unescapeXml(fields.get('Value') ?? '')])
  }
  return checkTags(pairs)
}

/** The tags of an `x-oss-tagging: k1=v1&k2=v2` header (URL-encoded). Throws InvalidTag. */
export function parseTaggingHeader(value: string): Record<string, string> {
  const pairs: [string, string][] = []
  for (const piece of value.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    try {
      const key = decodeURIComponent(eq === -1 ? piece : piece.slice(0, eq))
      pairs.push([key, eq === -1 ? '' : decodeURIComponent(piece.slice(eq + 1))])
    } catch {
      throw new OssError('InvalidTag', 'x-oss-tagging is not valid URL encoding.')
    }
  }
  return checkTags(pairs)
}

// OSS: at most 10 tags, unique keys of 1-128 characters, values up to 256, letters, digits, spaces and + - = . _ : /
const MAX_TAGS = 10
const TAG_TEXT = /^[\p{L}\p{N} +\-=._:/]*$/u

function checkTags(pairs: readonly [string, string][]): Record<string, string> {
  if (pairs.length > MAX_TAGS) throw new OssError('InvalidTag', 'An object can have at most 10 tags.')
  const tags: Record<string, string> = {}
  for (const [key, value] of pairs) {
    if (key === '' || key.length > 128 || value.length > 256 || !TAG_TEXT.test(key) || !TAG_TEXT.test(value))
      throw new OssError('InvalidTag')
    if (Object.hasOwn(tags, key)) throw new OssError('InvalidTag', `The tag key ${key} is given twice.`)
    tags[key] = value
  }
  return tags
}

/** A DeleteMultipleObjects body `<Delete><Quiet>…</Quiet><Object><Key>…</Key></Object>…`: at most 1000 keys. */
export function parseDelete(body: string): { quiet: boolean; keys: string[] } {
  let quiet = false
  const keys: string[] = []
  for (const [name, inner] of childElements(rootInner(body, 'Delete'), MAX_DELETE_KEYS + 1)) {
    if (name === 'Quiet') {
      if (inner !== 'true' && inner !== 'false') throw new OssError('MalformedXML')
      quiet = inner === 'true'
    } else if (name === 'Object') {
      const key = new Map(childElements(inner, 2)).get('Key')
      if (key === undefined || key === '') throw new OssError('MalformedXML')
      keys.push(unescapeXml(key))
    } else throw new OssError('MalformedXML')
  }
  if (keys.length === 0 || keys.length > MAX_DELETE_KEYS) throw new OssError('MalformedXML')
  return { quiet, keys }
}

const MAX_DELETE_KEYS = 1000
