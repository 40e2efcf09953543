// Call counters by action and outcome, read by tests and the security suite (GET /__counters, /__stats).

/** The parameters of the last AssumeRole request received (whatever its outcome). */
export interface LastAssumeRole {
  RoleArn: string | null
  RoleSessionName: string | null
  Policy: string | null
  DurationSeconds: string | null
  ExternalId: string | null
  SourceIdentity: string | null
}

export interface CountersSnapshot {
  /** STS action requests received (control endpoints excluded). */
  requests: number
  /** action → outcome → count. Outcome is `success`, an Alibaba error code, or `reset`/`malformed`. */
  calls: Record<string, Record<string, number>>
  /** AssumeRole requests received, every outcome included (faults, refusals, successes). */
  assumeRoleCalls: number
  /** When each AssumeRole request arrived (wall-clock ms, the first 100,000): for rate checks across a fleet. */
  assumeRoleTimes: number[]
  /** AssumeRole requests without a session Policy. Real STS allows them; sts-vend must never send one. */
  policylessCalls: number
  /** Faults applied, by kind. */
  faults: Record<string, number>
  inFlight: number
  inFlightMax: number
  last: LastAssumeRole | null
}

export interface CallCounters {
  /** Counts a received request and returns a function that records its outcome (once). */
  begin(action: string, params: ReadonlyMap<string, string>): (outcome: string) => void
  fault(kind: string): void
  snapshot(): CountersSnapshot
  reset(): void
}

/** Creates zeroed counters. */
export function createCallCounters(): CallCounters {
  let state = empty()
  function empty(): CountersSnapshot {
    return {
      requests: 0,
      // Action names come from the request: null-prototype maps keep `__proto__` an ordinary key.
      calls: Object.create(null) as Record<string, Record<string, number>>,
      assumeRoleCalls: 0,
      assumeRoleTimes: [],
      policylessCalls: 0,
      faults: Object.create(null) as Record<string, number>,
      inFlight: 0,
      inFlightMax: 0,
      last: null,
    }
  }
  return {
    begin(action, params) {
      const s = state
      s.requests += 1
      s.inFlight += 1
      s.inFlightMax = Math.max(s.inFlightMax, s.inFlight)
      if (action === 'AssumeRole') {
        s.assumeRoleCalls += 1
        if (s.assumeRoleTimes.length < 100_000) s.assumeRoleTimes.push(Date.now())
        if (!params.get('Policy')) s.policylessCalls += 1
        s.last = {
          RoleArn: params.get('RoleArn') ?? null,
          RoleSessionName: params.get('RoleSessionName') ?? null,
          Policy: params.get('Policy') ?? null,
          DurationSeconds: params.get('DurationSeconds') ?? null,
          ExternalId: params.get('ExternalId') ?? null,
          SourceIdentity: params.get('SourceIdentity') ?? null,
        }
      }
      let done = false
      return (outcome) => {
        if (done) return
        done = true
        state.inFlight = Math.max(0, state.inFlight - 1)
        const byOutcome = state.calls[action] ?? (Object.create(null) as Record<string, number>)
        byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1
        state.calls[action] = byOutcome
      }
    },
    fault(kind) {
      state.faults[kind] = (state.faults[kind] ?? 0) + 1
    },
    snapshot: () => structuredClone(state),
    reset() {
      const inFlight = state.inFlight
      state = empty()
      state.inFlight = inFlight
    },
  }
}
