import { DeadlineError } from '../errors.js'
import type { ResourceStore } from '../store/resource-store.js'
import type { Deadline } from './deadline.js'

/**
 * The moment by which every MongoDB call of a run has settled: halfway
 * through the deadline's safety margin. A call in flight when the deadline
 * fires (a chunk, a checkpoint, the lease's release) gets the first half to
 * finish; the second half covers a backoff sleep begun before it (the lease
 * release's longest is 2 s, so the default 10 s margin leaves 3 s) and
 * returning the report. Past it, every call fails at once, as not retryable.
 */
export function settleByOf(deadline: Pick<Deadline, 'at' | 'endsAt'>): number {
  return deadline.at + (deadline.endsAt - deadline.at) / 2
}

/**
 * The store with every call bounded by the time left
 * (docs/design.md#watch): a call still pending at `settleByOf(deadline)` is
 * abandoned with a DeadlineError, so a hung or unreachable MongoDB (a server
 * selection waits 30 s, a silent socket 45 s) cannot outlast the invocation and
 * the function always returns its own report. An abandoned write is not
 * acknowledged: nothing that depends on it (a checkpoint) runs.
 */
export function boundedStore(store: ResourceStore, deadline: Deadline): ResourceStore {
  const settleBy = settleByOf(deadline)
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key)
      if (typeof value !== 'function') return value
      return (...args: unknown[]): unknown => {
        const call = (value as (...a: unknown[]) => unknown).apply(target, args)
        return call instanceof Promise ? bounded(call, settleBy, String(key)) : call
      }
    },
  })
}

function bounded<T>(call: Promise<T>, settleBy: number, what: string): Promise<T> {
  // An abandoned call may still fail later: that failure has no one to tell.
  call.catch(() => undefined)
  let timer: NodeJS.Timeout | undefined
  const abandoned = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DeadlineError(`MongoDB call ${what} abandoned: no time left before the deadline`),
        ),
      Math.max(0, settleBy - Date.now()),
    )
  })
  return Promise.race([call, abandoned]).finally(() => clearTimeout(timer))
}
