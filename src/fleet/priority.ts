// Which kind of AssumeRole is being made: a refresh of a grant served before, or a new caller's first.
import { AsyncLocalStorage } from 'node:async_hooks'

export type CallPriority = 'refresh' | 'new'

const current = new AsyncLocalStorage<CallPriority>()

/** Runs `fn` with `priority` visible to the fleet budget, however deep the STS call is made. */
export function withCallPriority<T>(priority: CallPriority, fn: () => Promise<T>): Promise<T> {
  return current.run(priority, fn)
}

/** The priority of the call in progress; `new` outside withCallPriority. */
export function callPriority(): CallPriority {
  return current.getStore() ?? 'new'
}
