// Session policies kept per warm caller (the memoized grant, the issued-credential index) are stored
// deflated against a per-rule dictionary: one rule's policies differ only in the caller's values, so a
// ~600-character Policy packs into a few dozen bytes (issue 22). Packing runs once per new caller or
// credential, unpacking only on a cache miss or an explain-denial question, never on a cache hit.
import { deflateRawSync, inflateRawSync } from 'node:zlib'

/** A packed Policy: the deflated bytes as a one-byte string, and the dictionary they need. */
export interface PackedPolicy {
  readonly bytes: string
  readonly dictionary: Buffer
}

/** Dictionaries kept at most: rule ids past it pack without one (still exact, only larger). */
const MAX_DICTIONARIES = 1024
const NO_DICTIONARY = Buffer.alloc(0)

export interface PolicyPacker {
  pack(ruleId: string, policy: string): PackedPolicy
}

/** A packer whose dictionary for a rule is the first Policy it packs for that rule id. */
export function createPolicyPacker(): PolicyPacker {
  const dictionaries = new Map<string, Buffer>()
  return {
    pack(ruleId, policy) {
      let dictionary = dictionaries.get(ruleId)
      if (!dictionary) {
        dictionary = dictionaries.size < MAX_DICTIONARIES ? Buffer.from(policy, 'utf8') : NO_DICTIONARY
        if (dictionary !== NO_DICTIONARY) dictionaries.set(ruleId, dictionary)
      }
      const deflated = deflateRawSync(policy, dictionary.length > 0 ? { dictionary } : {})
      return { bytes: deflated.toString('latin1'), dictionary }
    },
  }
}

/** The exact Policy string that was packed. */
export function unpackPolicy({ bytes, dictionary }: PackedPolicy): string {
  const options = dictionary.length > 0 ? { dictionary } : {}
  return inflateRawSync(Buffer.from(bytes, 'latin1'), options).toString('utf8')
}
