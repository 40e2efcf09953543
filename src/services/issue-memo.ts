// The credential path's performance memos behind one port: default grants per verified caller (keyed on
// the cached Caller's identity and let go with it), and the answer bodies of the most recently served
// credentials.

import { LRUCache } from 'lru-cache'
import type { CompiledRule } from '../policies/index.ts'
import type { Caller, CredentialAsk, Format, Grant, Issued, OssGrant, StsCredentials } from '../types.ts'
import { createPolicyPacker, type PackedPolicy, type PolicyPacker, unpackPolicy } from './policy-pack.ts'

export interface IssueMemo {
  /**
   * The grant `render` builds for `caller` under `rule`, rendered once per (caller, rule) when `ask` is a
   * plain request; narrowed asks and `sourceIp: request` rules are rendered every time.
   */
  grant(rule: CompiledRule, caller: Caller, ask: CredentialAsk, render: () => Grant): Grant
  /** The body `build` serialises for `issued` in `format`, kept for the most recently served credentials. */
  body(format: Format, issued: Issued, build: () => string): string
}

/** Credentials whose answer body stays serialized (about 0.9 KiB each): the most recently served ones. */
export const HOT_BODIES = 256

/**
 * One body in this many built on a miss is kept for the hot set: a credential served again and again is
 * soon kept, while round-robin traffic over many callers (every request a miss) no longer churns the LRU
 * with a set and an eviction per request (issue 22).
 */
export const BODY_ADMIT_EVERY = 8

/**
 * A repeated caller's default grant is rendered once: the verified-token cache hands back the same
 * frozen Caller for the same token, so a WeakMap on it holds one grant per rule and lets it go with the
 * Caller. Nothing a caller sends can grow it: asks with narrowing or a duration are never memoized, and
 * neither are grants that carry the client's address.
 */
function memoizable(rule: CompiledRule, ask: CredentialAsk): boolean {
  return (
    ask.prefix === undefined &&
    ask.access === undefined &&
    ask.durationSeconds === undefined &&
    rule.config.conditions.sourceIp !== 'request'
  )
}

/**
 * A memoized grant: the rendered grant's fields, frozen, with its Policy packed (a few dozen bytes instead
 * of ~600: issue 22) and unpacked when read. On a cache hit nothing reads it; a miss reads it once for
 * AssumeRole, the index once more.
 */
class PackedGrant implements Grant {
  readonly ruleId: string
  readonly issuerId: string
  readonly subject: string
  readonly roleArn: string
  readonly sessionName: string
  readonly externalId: string | null
  readonly durationSeconds: number
  readonly oss: OssGrant
  /** The policy's sha256 as 32 one-byte characters (48 bytes of heap instead of 80 as hex: issue 22). */
  readonly #sha256: string
  readonly #bytes: string
  readonly #dictionary: Buffer
  /** The credentials last written to the index with this grant: a private field stays writable when frozen. */
  #indexed: StsCredentials | null = null

  constructor(grant: Grant, packer: PolicyPacker) {
    this.ruleId = grant.ruleId
    this.issuerId = grant.issuerId
    this.subject = grant.subject
    this.roleArn = grant.roleArn
    this.sessionName = grant.sessionName
    this.externalId = grant.externalId
    this.durationSeconds = grant.durationSeconds
    this.#sha256 = Buffer.from(grant.policySha256, 'hex').toString('latin1')
    this.oss = Object.freeze(grant.oss)
    const packed = packer.pack(grant.ruleId, grant.policy)
    this.#bytes = packed.bytes
    this.#dictionary = packed.dictionary
    Object.freeze(this)
  }

  /** On the prototype, not an own property: an own accessor would give every instance its own map. */
  get policy(): string {
    return unpackPolicy(this.packedPolicy)
  }

  /** Lowercase hex, as Grant has it. */
  get policySha256(): string {
    return Buffer.from(this.#sha256, 'latin1').toString('hex')
  }

  /** See indexedWith. */
  lastIndexed(): StsCredentials | null {
    return this.#indexed
  }

  /** See markIndexed. */
  indexedNow(credentials: StsCredentials): void {
    this.#indexed = credentials
  }

  /** The packed Policy itself, for a store that keeps it packed too (the issued-credential index). */
  get packedPolicy(): PackedPolicy {
    return { bytes: this.#bytes, dictionary: this.#dictionary }
  }
}

/**
 * The credentials last written to the index with a memoized grant (null: none yet); undefined for a grant
 * rendered anew. A memoized grant is one caller's under one rule, so it remembers what the index has
 * without a map entry per credential (issue 22).
 */
export function indexedWith(grant: Grant): StsCredentials | null | undefined {
  return grant instanceof PackedGrant ? grant.lastIndexed() : undefined
}

/** Remembers on a memoized grant that `credentials` were written to the index with it (else nothing). */
export function markIndexed(grant: Grant, credentials: StsCredentials): void {
  if (grant instanceof PackedGrant) grant.indexedNow(credentials)
}

/** The Policy of a memoized grant as it is kept, packed; undefined for a grant rendered anew. */
export function packedPolicyOf(grant: Grant): PackedPolicy | undefined {
  return grant instanceof PackedGrant ? grant.packedPolicy : undefined
}

/** A caller's memoized grants: the one grant most callers have, or a map by rule id once there are more. */
type Memoized = Grant | Map<string, Grant>

/**
 * A body per warm caller held about 0.9 KiB (issue 22): only the HOT_BODIES most recently served
 * credentials keep theirs; the others are serialized again (a few µs).
 */
export function createIssueMemo(): IssueMemo {
  const grants = new WeakMap<Caller, Memoized>()
  const packer = createPolicyPacker()
  const bodies = new LRUCache<StsCredentials, { grant: Grant; format: Format; json: string }>({
    max: HOT_BODIES,
  })
  let misses = 0
  return {
    body(format, issued, build) {
      const slot = bodies.get(issued.credentials)
      if (slot && slot.grant === issued.grant && slot.format === format) return slot.json
      const json = build()
      if (++misses % BODY_ADMIT_EVERY === 0)
        bodies.set(issued.credentials, { grant: issued.grant, format, json })
      return json
    },
    grant(rule, caller, ask, render) {
      if (!memoizable(rule, ask)) return render()
      const known = grants.get(caller)
      if (known instanceof Map) {
        const hit = known.get(rule.id)
        if (hit) return hit
      } else if (known?.ruleId === rule.id) return known
      const grant: Grant = new PackedGrant(render(), packer)
      if (known === undefined) grants.set(caller, grant)
      else if (known instanceof Map) known.set(rule.id, grant)
      else
        grants.set(
          caller,
          new Map([
            [known.ruleId, known],
            [rule.id, grant],
          ]),
        )
      return grant
    },
  }
}

/** No memo: every grant and body is built anew (tests that swap the renderer use it). */
export const NO_MEMO: IssueMemo = {
  grant: (_rule, _caller, _ask, render) => render(),
  body: (_format, _issued, build) => build(),
}
