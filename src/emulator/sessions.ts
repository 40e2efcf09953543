// The sessions the emulator issued: what the STS side checks for role chaining and the OSS side will authorize.

/** One STS session the emulator issued with AssumeRole. */
export interface IssuedSession {
  accessKeyId: string
  accessKeySecret: string
  securityToken: string
  /** The account that owns the assumed role. */
  accountId: string
  roleName: string
  /** acs:ram::<account>:role/<name> */
  roleArn: string
  sessionName: string
  /** AssumedRoleUser.Arn: acs:ram::<account>:role/<name>/<session> */
  arn: string
  /** AssumedRoleUser.AssumedRoleId */
  assumedRoleId: string
  /** The session policy exactly as sent, or null when the call had none (the role's full rights). */
  policy: string | null
  externalId: string | null
  sourceIdentity: string | null
  /** Who called AssumeRole. */
  callerAccountId: string
  callerAccessKeyId: string
  issuedAt: Date
  expiration: Date
}

/** Remembers issued sessions. The memory implementation is the only one; the OSS emulator reads it. */
export interface SessionStore {
  add(session: IssuedSession): void
  /** By the session's AccessKeyId (`STS.…`). Expired sessions stay until evicted, so callers can tell expired from unknown. */
  get(accessKeyId: string): IssuedSession | undefined
  list(): IssuedSession[]
  readonly size: number
}

/** An in-memory store keeping at most `maxSessions` (default 100000), dropping the oldest first. */
export function createMemorySessionStore(options: { maxSessions?: number } = {}): SessionStore {
  const max = options.maxSessions ?? 100_000
  const sessions = new Map<string, IssuedSession>()
  return {
    add(session) {
      sessions.set(session.accessKeyId, session)
      while (sessions.size > max) {
        const oldest = sessions.keys().next()
        if (oldest.done) break
        sessions.delete(oldest.value)
      }
    },
    get: (accessKeyId) => sessions.get(accessKeyId),
    list: () => [...sessions.values()],
    get size() {
      return sessions.size
    },
  }
}
