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
