// The containment property of design §4, checked on a built policy: at load (worst case) and on every render.
import { BUCKET_INFO_ACTION, isListingAction, isObjectAction } from './actions.ts'
import type { OssLocation, PolicyDocument } from './policy.ts'

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v

/**
 * Lists every way `policy` reaches outside `prefix` (empty when contained): each Resource is an
 * object resource under `prefix`, or the bucket resource carrying only listing actions limited by
 * `oss:Prefix` values under `prefix` — or only GetBucketInfo when `allowBucketInfo` (ossbrowser).
 * No Action or Resource may hold a wildcard beyond the trailing `*` of the prefix.
 */
export function containmentViolations(
  policy: PolicyDocument,
  location: OssLocation,
  prefix: string,
  allowBucketInfo: boolean,
): string[] {
  const problems: string[] = []
  const objectPrefix = location.objectBase + prefix
  if (/[*?]/.test(prefix)) problems.push(`the prefix "${prefix}" holds a wildcard`)
  policy.Statement.forEach((statement, i) => {
    const where = `Statement[${i}]`
    if (statement.Effect !== 'Allow') return
    const actions = list(statement.Action)
    const resources = list(statement.Resource)
    if (actions.length === 0 || resources.length === 0) problems.push(`${where} has no Action or no Resource`)
    if (actions.some((a) => a.includes('*') || a.includes('?')))
      problems.push(`${where} has a wildcard action`)
    for (const resource of resources) {
      if (resource === location.bucketResource) {
        const onlyInfo = actions.length === 1 && actions[0] === BUCKET_INFO_ACTION
        if (onlyInfo) {
          if (!allowBucketInfo) problems.push(`${where} grants GetBucketInfo outside the ossbrowser preset`)
          continue
        }
        if (!actions.every(isListingAction)) problems.push(`${where} puts a non-listing action on the bucket`)
        const prefixes = statement.Condition?.['StringLike']?.['oss:Prefix']
        const values = prefixes === undefined ? [] : Array.isArray(prefixes) ? prefixes : [prefixes]
        if (values.length === 0) problems.push(`${where} lists without an oss:Prefix condition`)
        for (const value of values) {
          const body = typeof value === 'string' && value.endsWith('*') ? value.slice(0, -1) : null
          if (body === null || !body.startsWith(prefix) || /[*?]/.test(body))
            problems.push(`${where} has an oss:Prefix outside "${prefix}"`)
        }
      } else {
        const rest = resource.startsWith(objectPrefix) ? resource.slice(objectPrefix.length) : null
        if (rest === null) problems.push(`${where} has a Resource outside "${prefix}"`)
        else if (/[*?]/.test(rest.slice(0, -1)) || rest.endsWith('?'))
          problems.push(`${where} has a wildcard inside the granted prefix`)
        if (!actions.every(isObjectAction)) problems.push(`${where} puts a non-object action on objects`)
      }
    }
  })
  return problems
}
