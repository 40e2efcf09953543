// PostObject: the browser form upload. Reading the multipart form, verifying its V4 (or V1) policy signature and the policy's conditions.
import { MAX_SKEW_MS } from '../authenticate.ts'
import {
  assertRegion,
  assertV1Accepted,
  mismatch,
  type OssAuthContext,
  type OssCaller,
  parseV4Timestamp,
  resolveSecret,
} from './authenticate.ts'
import { OssError } from './errors.ts'
import { header, type OssRequest, type PostForm } from './request.ts'
import type { OssTarget } from './routing.ts'
import { signaturesEqual, v1Signature } from './signature-v1.ts'
import { parseV4Credential, V4_ALGORITHM, v4Signature } from './signature-v4.ts'

/** A PostObject form: its text fields (names lower-cased), the object key and the file. */

/** OSS lets a V4 form's x-oss-date be at most 7 days old. */
const MAX_FORM_AGE_MS = 7 * 24 * 3600 * 1000
const V4_POLICY_FIELDS = ['x-oss-signature-version', 'x-oss-credential', 'x-oss-date']

/**
 * Reads a multipart/form-data body (the file field last, as OSS requires; `${filename}` in the key is
 * the uploaded file's name). Throws OssError MalformedPOSTRequest, InvalidArgument.
 */
export async function readPostForm(req: OssRequest): Promise<PostForm> {
  let data: FormData
  try {
    const type = header(req.headers, 'content-type') ?? ''
    data = await new Response(new Uint8Array(req.body), { headers: { 'content-type': type } }).formData()
  } catch {
    throw new OssError('MalformedPOSTRequest')
  }
  const fields = new Map<string, string>()
  let file: Buffer | null = null
  let fileName = ''
  for (const [name, value] of data as unknown as Iterable<[string, FormDataEntryValue]>) {
    if (file !== null)
      throw new OssError('InvalidArgument', 'The file field must be the last field of the form.')
    const lower = name.toLowerCase()
    if (lower === 'file') {
      file = typeof value === 'string' ? Buffer.from(value) : Buffer.from(await value.arrayBuffer())
      fileName = typeof value === 'string' ? '' : value.name
    } else if (typeof value === 'string') {
      if (fields.has(lower)) throw new OssError('InvalidArgument', `The form field ${name} is given twice.`)
      fields.set(lower, value)
    }
  }
  const key = fields.get('key')?.replace('${filename}', fileName)
  if (file === null || !key) throw new OssError('InvalidArgument', 'The form needs a key and a file field.')
  return { fields, key, file }
}

type Condition = Record<string, unknown> | unknown[]

function failed(condition: Condition): OssError {
  return new OssError(
    'AccessDenied',
    `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`,
  )
}

function checkCondition(condition: Condition, value: (name: string) => string | undefined, size: number) {
  if (!Array.isArray(condition)) {
    for (const [name, expected] of Object.entries(condition))
      if (value(name) !== String(expected)) throw failed(condition)
    return
  }
  const [op, field, expected] = condition
  const name = String(field).replace(/^\$/, '')
  const got = value(name)
  switch (String(op).toLowerCase()) {
    case 'eq':
      if (got !== String(expected)) throw failed(condition)
      return
    case 'starts-with':
      if (got === undefined || !got.startsWith(String(expected))) throw failed(condition)
      return
    case 'in':
    case 'not-in': {
      const inList = Array.isArray(expected) && got !== undefined && expected.map(String).includes(got)
      if (inList !== (String(op).toLowerCase() === 'in')) throw failed(condition)
      return
    }
    case 'content-length-range':
      if (size < Number(field)) throw new OssError('EntityTooSmall')
      if (size > Number(expected)) throw new OssError('EntityTooLarge')
      return
    default:
      throw new OssError('InvalidPolicyDocument', `Unknown policy condition ${JSON.stringify(op)}.`)
  }
}

/**
 * Checks the decoded policy: it has not expired, and the form meets every condition (exact `{name:
 * value}`, `eq`, `starts-with`, `in`, `not-in`, `content-length-range`). A V4 policy must name the
 * x-oss-signature-version, x-oss-credential and x-oss-date fields. Throws OssError
 * InvalidPolicyDocument, AccessDenied ("Invalid according to Policy: …"), EntityTooSmall/Large.
 */
function checkPolicy(policy: string, form: PostForm, target: OssTarget, now: Date, v4: boolean): void {
  let doc: { expiration?: unknown; conditions?: unknown }
  try {
    doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'))
  } catch {
    throw new OssError('InvalidPolicyDocument')
  }
  const expiration = typeof doc.expiration === 'string' ? Date.parse(doc.expiration) : Number.NaN
  if (Number.isNaN(expiration) || !Array.isArray(doc.conditions)) throw new OssError('InvalidPolicyDocument')
  if (expiration <= now.getTime())
    throw new OssError('AccessDenied', 'Invalid according to Policy: Policy expired.')
  const conditions = doc.conditions as Condition[]
  const named = new Set(conditions.flatMap((c) => (Array.isArray(c) ? [] : Object.keys(c ?? {}))))
  if (v4 && V4_POLICY_FIELDS.some((name) => !named.has(name)))
    throw new OssError('InvalidPolicyDocument', `A V4 policy must name ${V4_POLICY_FIELDS.join(', ')}.`)
  const value = (name: string) =>
    name === 'bucket' ? target.name : name === 'key' ? form.key : form.fields.get(name.toLowerCase())
  for (const condition of conditions) {
    if (condition === null || typeof condition !== 'object') throw new OssError('InvalidPolicyDocument')
    checkCondition(condition, value, form.file.length)
  }
}

function v1Form(form: PostForm, target: OssTarget, ctx: OssAuthContext): OssCaller {
  assertV1Accepted(target)
  const accessKeyId = form.fields.get('ossaccesskeyid') ?? ''
  const signature = form.fields.get('signature') ?? ''
  const policy = form.fields.get('policy') ?? ''
  if (!accessKeyId || !signature || !policy)
    throw new OssError('AccessDenied', 'The form needs OSSAccessKeyId, policy and Signature.')
  const key = resolveSecret(accessKeyId, form.fields.get('x-oss-security-token'), ctx)
  if (!signaturesEqual(signature, v1Signature(key.secret, policy))) throw mismatch(accessKeyId, signature)
  checkPolicy(policy, form, target, ctx.now, false)
  return { accessKeyId, accountId: key.accountId, session: key.session, user: key.user, scheme: 'v1-post' }
}

/**
 * Authenticates a PostObject form: V4 (x-oss-signature-version OSS4-HMAC-SHA256, x-oss-credential,
 * x-oss-date, x-oss-signature = hex HMAC-SHA256 of the base64 policy with the V4 signing key), or V1
 * (OSSAccessKeyId, Signature) where the bucket still accepts V1. Throws OssError AccessDenied,
 * InvalidArgument, InvalidAccessKeyId, InvalidSecurityToken, SecurityTokenExpired,
 * RequestTimeTooSkewed, SignatureDoesNotMatch, InvalidPolicyDocument.
 */
export function authenticatePostObject(form: PostForm, target: OssTarget, ctx: OssAuthContext): OssCaller {
  const f = form.fields
  if (f.has('ossaccesskeyid') || f.has('signature')) return v1Form(form, target, ctx)
  if (!f.has('x-oss-signature')) throw new OssError('AccessDenied', 'The form carries no signature.')
  const credential = parseV4Credential(f.get('x-oss-credential') ?? '')
  const timestamp = f.get('x-oss-date') ?? ''
  const signedAt = parseV4Timestamp(timestamp)
  const signature = f.get('x-oss-signature') ?? ''
  const policy = f.get('policy') ?? ''
  if (f.get('x-oss-signature-version') !== V4_ALGORITHM || !credential || Number.isNaN(signedAt) || !policy)
    throw new OssError('InvalidArgument', 'The form has missing or malformed x-oss-* V4 fields or no policy.')
  if (timestamp.slice(0, 8) !== credential.date) throw mismatch(credential.accessKeyId, signature)
  const key = resolveSecret(credential.accessKeyId, f.get('x-oss-security-token'), ctx)
  const now = ctx.now.getTime()
  if (signedAt - now > MAX_SKEW_MS || now - signedAt > MAX_FORM_AGE_MS)
    throw new OssError('AccessDenied', 'Request has expired.')
  assertRegion(credential, target)
  const expected = v4Signature(key.secret, credential.date, credential.region, policy)
  if (!signaturesEqual(signature, expected)) throw mismatch(credential.accessKeyId, signature)
  checkPolicy(policy, form, target, ctx.now, true)
  return {
    accessKeyId: credential.accessKeyId,
    accountId: key.accountId,
    session: key.session,
    user: key.user,
    scheme: 'v4-post',
  }
}
