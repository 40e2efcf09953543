// Fault injection: a FIFO queue of faults, each applied to the next `count` STS action requests, and sampled ones.
import { z } from 'zod'

/**
 * What a fault does to the next request(s):
 * - `throttle`: 400 `Throttling.User` (or `code`), with `x-acs-retry-after: retryAfterMs` when given;
 * - `server_error`: `status` (default 500) with `code` (default `InternalError`);
 * - `status`: any error `status` and `code` (e.g. 403 NoPermission);
 * - `delay`: waits `delayMs`, then answers normally;
 * - `reset`: destroys the connection without an answer (ECONNRESET at the client);
 * - `malformed`: `status` (default 200) with an HTML body no JSON parser accepts;
 * - `partial`, `badExpiration`, `wrongRole`: a 200 AssumeRole answer without `SecurityToken`, with
 *   `Expiration` set to `expiration` (default `not-a-date`), or with an `AssumedRoleUser.Arn` of another role.
 *
 * With `rate` (0 < rate ≤ 1) a fault is sampled instead of queued: each request draws once, and a fault
 * applies with its rate (rates add up: 0.05 throttle + 0.01 server_error fail 6% of requests), `count`
 * bounding how many times it may apply. Queued faults go first; sampled ones never hold up the queue.
 */
export const FAULT_KINDS = [
  'throttle',
  'server_error',
  'status',
  'delay',
  'reset',
  'malformed',
  'partial',
  'badExpiration',
  'wrongRole',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export const faultSchema = z
  .strictObject({
    kind: z.enum(FAULT_KINDS),
    count: z.number().int().min(1).max(1_000_000).default(1),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    status: z.number().int().min(200).max(599).optional(),
    code: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9.]*$/, 'must be an Alibaba error code')
      .optional(),
    retryAfterMs: z.number().int().min(0).optional(),
    expiration: z.string().optional(),
    rate: z.number().gt(0).max(1).optional(),
  })
  .superRefine((fault, ctx) => {
    if (fault.kind === 'delay' && fault.delayMs === undefined)
      ctx.addIssue({ code: 'custom', message: 'a delay fault needs delayMs', path: ['delayMs'] })
    if (fault.kind === 'status' && (fault.status === undefined || fault.code === undefined))
      ctx.addIssue({ code: 'custom', message: 'a status fault needs status and code', path: ['status'] })
    if (
      (fault.kind === 'status' || fault.kind === 'server_error') &&
      fault.status !== undefined &&
      fault.status < 400
    )
      ctx.addIssue({ code: 'custom', message: 'an error status is 400..599', path: ['status'] })
  })

export type FaultInput = z.input<typeof faultSchema>
export type Fault = z.output<typeof faultSchema>

/** The fault queue. Tests and the security suite drive it directly or through `POST /__faults`. */
export interface FaultController {
  /** Appends faults (validated; throws a ZodError on an invalid one, adding none). */
  add(faults: readonly FaultInput[]): void
  clear(): void
  /** What is still queued, then the sampled faults, with the remaining counts. */
  pending(): Fault[]
  /**
   * Consumes one application of the head fault; with the queue empty, draws once among the sampled
   * faults. Returns undefined when no fault applies to this request.
   */
  take(): Fault | undefined
}

/** Creates a fault queue holding `initial` (from the emulator config). `random` draws for sampled faults. */
export function createFaultController(
  initial: readonly FaultInput[] = [],
  random: () => number = Math.random,
): FaultController {
  const queue: Fault[] = []
  const sampled: Fault[] = []
  const applyOnce = (list: Fault[], index: number): Fault => {
    const fault = list[index] as Fault
    fault.count -= 1
    if (fault.count <= 0) list.splice(index, 1)
    return { ...fault, count: 1 }
  }
  const controller: FaultController = {
    add(faults) {
      const parsed = z.array(faultSchema).parse(faults)
      for (const fault of parsed) (fault.rate === undefined ? queue : sampled).push(fault)
    },
    clear() {
      queue.length = 0
      sampled.length = 0
    },
    pending: () => [...queue, ...sampled].map((f) => ({ ...f })),
    take() {
      if (queue.length > 0) return applyOnce(queue, 0)
      if (sampled.length === 0) return undefined
      const draw = random()
      let bound = 0
      for (let i = 0; i < sampled.length; i++) {
        bound += (sampled[i] as Fault).rate ?? 0
        if (draw < bound) return applyOnce(sampled, i)
      }
      return undefined
    },
  }
  controller.add(initial)
  return controller
}
