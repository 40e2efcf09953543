// The emulator's clock: an injected base clock plus an offset that tests move with POST /__clock.

/** The time the emulator believes it is. Both the STS and (later) the OSS side read it. */
export interface EmulatorClock {
  now(): Date
  offsetSeconds(): number
  /** Sets the offset from the base clock (absolute, not cumulative). */
  setOffsetSeconds(seconds: number): void
}

/** Creates a clock reading `base` (default: the system clock) shifted by a settable offset (default 0). */
export function createClock(base: () => Date = () => new Date()): EmulatorClock {
  let offset = 0
  return {
    now: () => new Date(base().getTime() + offset * 1000),
    offsetSeconds: () => offset,
    setOffsetSeconds(seconds) {
      if (!Number.isFinite(seconds)) throw new TypeError('offsetSeconds must be a finite number')
      offset = seconds
    },
  }
}
