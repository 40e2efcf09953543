// Throttling.User above `throttle.perSecond` AssumeRole calls per calling account (Alibaba's per-account quota dimension).

export type ThrottleDecision = { ok: true } | { ok: false; retryAfterMs: number }

/** A per-account limiter over one-second windows of the emulator clock. */
export interface AccountThrottle {
  admit(accountId: string, now: Date): ThrottleDecision
}

/** Creates a limiter admitting `perSecond` calls per account per clock second; refused calls do not count. */
export function createAccountThrottle(perSecond: number): AccountThrottle {
  const windows = new Map<string, { second: number; count: number }>()
  return {
    admit(accountId, now) {
      const ms = now.getTime()
      const second = Math.floor(ms / 1000)
      const window = windows.get(accountId)
      if (!window || window.second !== second) {
        windows.set(accountId, { second, count: 1 })
        return { ok: true }
      }
      if (window.count >= perSecond) return { ok: false, retryAfterMs: (second + 1) * 1000 - ms }
      window.count += 1
      return { ok: true }
    },
  }
}
