// Reads what it can from an OSS error response body (`<Error><Code>…</Code>…</Error>`): the code, the
// fine-grained EC, the request id, the host, and — on signature errors — the AccessKeyId and the signed
// request (V1 StringToSign, V4 CanonicalRequest), from which the action, bucket and key follow.
// Format: https://www.alibabacloud.com/help/en/oss/user-guide/overview-14 (error responses).

export interface OssErrorFacts {
  code: string | null
  message: string | null
  requestId: string | null
  hostId: string | null
  ec: string | null
  accessKeyId: string | null
  action: string | null
  bucket: string | null
  key: string | null
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function decode(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#\d{1,7}|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (!e.startsWith('#')) return ENTITIES[e] ?? ''
    const point = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))
    return point <= 0x10ffff ? String.fromCodePoint(point) : ''
  })
}

/** The text of the first `<tag>` element (no attributes, no nesting, as OSS writes them), trimmed. */
function element(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([^<]{0,8192})</${tag}>`).exec(xml)
  if (!match) return null
  const value = decode(match[1] ?? '').trim()
  return value === '' ? null : value
}

/**
 * The OSS action a signed request performs, from its method, key and sub-resources: enough for the
 * common object and listing calls (uploads, multipart, ACLs, deletes, listings). Null when unsure.
 */
export function actionOf(method: string, key: string, query: ReadonlySet<string>): string | null {
  const m = method.toUpperCase()
  if (key === '') {
    if (m !== 'GET') return null
    if (query.has('uploads')) return 'oss:ListMultipartUploads'
    if (query.has('versions')) return 'oss:ListObjectVersions'
    if (query.has('bucketInfo')) return 'oss:GetBucketInfo'
    return 'oss:ListObjects'
  }
  if (query.has('acl')) return m === 'PUT' ? 'oss:PutObjectAcl' : m === 'GET' ? 'oss:GetObjectAcl' : null
  if (query.has('uploadId')) {
    if (m === 'DELETE') return 'oss:AbortMultipartUpload'
    if (m === 'GET') return 'oss:ListParts'
    return 'oss:PutObject'
  }
  if (query.has('restore')) return 'oss:RestoreObject'
  const plain: Record<string, string> = {
    GET: 'oss:GetObject',
    HEAD: 'oss:GetObject',
    PUT: 'oss:PutObject',
    POST: 'oss:PutObject',
    DELETE: 'oss:DeleteObject',
  }
  return plain[m] ?? null
}

/** `/bucket/key?sub&res` → bucket, key, the sub-resource names. */
function splitResource(resource: string): { bucket: string | null; key: string; query: Set<string> } {
  const [path = '', search = ''] = resource.split('?', 2)
  const query = new Set(
    search
      .split('&')
      .filter((p) => p !== '')
      .map((p) => p.split('=')[0] ?? ''),
  )
  const match = /^\/([^/]+)\/?(.*)$/.exec(path)
  if (!match) return { bucket: null, key: '', query }
  let key = match[2] ?? ''
  try {
    key = decodeURIComponent(key)
  } catch {
    // A key that is not valid percent-encoding is read as written.
  }
  return { bucket: match[1] ?? null, key, query }
}

/** V1 StringToSign: VERB, Content-MD5, Content-Type, Date, headers…, then the resource `/bucket/key?sub`. */
function fromStringToSign(text: string): Pick<OssErrorFacts, 'action' | 'bucket' | 'key'> | null {
  const lines = text.split('\n')
  const method = lines[0] ?? ''
  const resource = lines[lines.length - 1] ?? ''
  if (!/^[A-Z]{3,7}$/.test(method) || !resource.startsWith('/')) return null
  const { bucket, key, query } = splitResource(resource)
  return { action: actionOf(method, key, query), bucket, key }
}

/** V4 CanonicalRequest: VERB, then the canonical URI `/bucket/key`, then the canonical query. */
function fromCanonicalRequest(text: string): Pick<OssErrorFacts, 'action' | 'bucket' | 'key'> | null {
  const [method = '', uri = '', search = ''] = text.split('\n')
  if (!/^[A-Z]{3,7}$/.test(method) || !uri.startsWith('/')) return null
  const { bucket, key, query } = splitResource(search === '' ? uri : `${uri}?${search}`)
  return { action: actionOf(method, key, query), bucket, key }
}

/** Reads an OSS error body. Returns null when it is not an OSS `<Error>` document. */
export function parseOssError(xml: string): OssErrorFacts | null {
  if (!/<Error[\s>]/.test(xml)) return null
  const hostId = element(xml, 'HostId')
  const signed =
    fromStringToSign(element(xml, 'StringToSign') ?? '') ??
    fromCanonicalRequest(element(xml, 'CanonicalRequest') ?? '')
  // Virtual-hosted: HostId is `<bucket>.oss-<region>….aliyuncs.com`.
  const hostBucket = hostId ? (/^([a-z0-9][a-z0-9-]{1,62})\.oss-/.exec(hostId)?.[1] ?? null) : null
  return {
    code: element(xml, 'Code'),
    message: element(xml, 'Message'),
    requestId: element(xml, 'RequestId'),
    hostId,
    ec: element(xml, 'EC'),
    accessKeyId: element(xml, 'OSSAccessKeyId') ?? element(xml, 'AccessKeyId'),
    action: signed?.action ?? null,
    bucket: signed?.bucket ?? hostBucket,
    key: signed?.key ?? null,
  }
}
