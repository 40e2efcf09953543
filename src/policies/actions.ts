// OSS actions sts-vend knows, and the access presets of design §5 (from the OSS docs in reference/seeds/).

/** The preset names of design §5, in the table's order (the config schema takes them from here). */
export const ACCESS_PRESETS = [
  'read',
  'upload-only',
  'read-write',
  'read-write-delete',
  'ossbrowser',
] as const
export type AccessPreset = (typeof ACCESS_PRESETS)[number]

/** Actions on objects: they go on the object resource `…/P*` only. */
export const OBJECT_ACTIONS = [
  'oss:GetObject',
  'oss:GetObjectAcl',
  'oss:GetObjectVersion',
  'oss:GetObjectVersionAcl',
  'oss:RestoreObject',
  'oss:RestoreObjectVersion',
  'oss:PutObject',
  'oss:PutObjectAcl',
  'oss:PutObjectVersionAcl',
  'oss:AbortMultipartUpload',
  'oss:ListParts',
  'oss:DeleteObject',
  'oss:DeleteObjectVersion',
  'oss:GetObjectTagging',
  'oss:PutObjectTagging',
  'oss:DeleteObjectTagging',
  'oss:GetObjectVersionTagging',
  'oss:PutObjectVersionTagging',
  'oss:DeleteObjectVersionTagging',
  'oss:PutSymlink',
  'oss:GetSymlink',
] as const

/** Listing actions: on the bucket resource, always limited by `oss:Prefix`. */
export const LISTING_ACTIONS = [
  'oss:ListObjects',
  'oss:ListObjectVersions',
  'oss:ListMultipartUploads',
] as const

/** The one bucket-metadata action, in the ossbrowser preset only (ossbrowser needs it to log on to a preset path). */
export const BUCKET_INFO_ACTION = 'oss:GetBucketInfo'

const objectSet: ReadonlySet<string> = new Set(OBJECT_ACTIONS)
const listingSet: ReadonlySet<string> = new Set(LISTING_ACTIONS)

export const isObjectAction = (action: string): boolean => objectSet.has(action)
export const isListingAction = (action: string): boolean => listingSet.has(action)

/** What a grant allows, split by the resource each part goes on. */
export interface AccessSpec {
  readonly name: AccessPreset | 'custom'
  readonly object: readonly string[]
  readonly listing: readonly string[]
  readonly bucketInfo: boolean
}

const READ_OBJECT = [
  'oss:GetObject',
  'oss:GetObjectAcl',
  'oss:GetObjectVersion',
  'oss:GetObjectVersionAcl',
  'oss:RestoreObject',
  'oss:RestoreObjectVersion',
]
const READ_LISTING = ['oss:ListObjects', 'oss:ListObjectVersions']
const WRITE_OBJECT = ['oss:PutObject', 'oss:PutObjectAcl', 'oss:AbortMultipartUpload', 'oss:ListParts']
const DELETE_OBJECT = ['oss:DeleteObject', 'oss:DeleteObjectVersion']

/** The presets of design §5, in the table's order. */
export const PRESETS: Readonly<Record<AccessPreset, AccessSpec>> = {
  read: { name: 'read', object: READ_OBJECT, listing: READ_LISTING, bucketInfo: false },
  'upload-only': {
    name: 'upload-only',
    object: ['oss:PutObject', 'oss:AbortMultipartUpload', 'oss:ListParts'],
    listing: [],
    bucketInfo: false,
  },
  'read-write': {
    name: 'read-write',
    object: [...READ_OBJECT, ...WRITE_OBJECT],
    listing: READ_LISTING,
    bucketInfo: false,
  },
  'read-write-delete': {
    name: 'read-write-delete',
    object: [...READ_OBJECT, ...WRITE_OBJECT, ...DELETE_OBJECT],
    listing: READ_LISTING,
    bucketInfo: false,
  },
  ossbrowser: {
    name: 'ossbrowser',
    object: [...READ_OBJECT, ...WRITE_OBJECT, ...DELETE_OBJECT],
    listing: ['oss:ListObjects', 'oss:ListMultipartUploads'],
    bucketInfo: true,
  },
}

/**
 * Builds the spec of an `actions:` list. Returns the problems for unknown actions, and for
 * GetBucketInfo (bucket-wide, so only the ossbrowser preset may carry it).
 */
export function customAccess(
  actions: readonly string[],
): { spec: AccessSpec } | { errors: { index: number; message: string }[] } {
  const errors: { index: number; message: string }[] = []
  const object: string[] = []
  const listing: string[] = []
  actions.forEach((action, index) => {
    if (isObjectAction(action)) {
      if (!object.includes(action)) object.push(action)
    } else if (isListingAction(action)) {
      if (!listing.includes(action)) listing.push(action)
    } else if (action === BUCKET_INFO_ACTION) {
      errors.push({ index, message: `${action} is bucket-wide; only the ossbrowser preset grants it` })
    } else {
      errors.push({
        index,
        message: `unknown or bucket-level OSS action "${action}"; allowed: ${[...OBJECT_ACTIONS, ...LISTING_ACTIONS].join(', ')}`,
      })
    }
  })
  if (errors.length > 0) return { errors }
  return { spec: { name: 'custom', object, listing, bucketInfo: false } }
}

/** True when every action of `inner` is also in `outer`: `inner` asks for nothing more. */
export function isSubAccess(inner: AccessSpec, outer: AccessSpec): boolean {
  return (
    inner.object.every((a) => outer.object.includes(a)) &&
    inner.listing.every((a) => outer.listing.includes(a)) &&
    (!inner.bucketInfo || outer.bucketInfo)
  )
}
