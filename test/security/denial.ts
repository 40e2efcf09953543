// The audit side of a refusal: the one credentials.denied line's reason (and claim name, never its value).
import { expect } from 'vitest'
import type { Probe } from '../fixtures/refusals.ts'

/** Asserts the request's credentials.denied line has `reason` and, when given, names `claim`. */
export function expectedDenial(probe: Probe, reason: string, claim?: string): Record<string, unknown> {
  const line = probe.sec.raw
    .slice(probe.before.line)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l['event'] === 'credentials.denied')
  expect(line).toBeDefined()
  expect(line?.['reason']).toBe(reason)
  if (claim !== undefined) expect(line?.['claim']).toBe(claim)
  return line ?? {}
}
