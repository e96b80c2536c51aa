import { notTransient } from '../../classify.js'
import { DeadlineError } from '../../errors.js'
import type { Guard } from '../../resilience/circuit-breaker.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import { observedAttempt, type Pacing } from '../writes/adaptive-pacing.js'
import { runPaced } from '../writes/chunk-scheduler.js'
import { splitIntoChunks } from '../writes/coalesce-ops.js'

/** How history's reads and inserts are sliced, retried and paced: as the inventory writer's chunks. */
export interface SlicePolicy {
  /** ResourceRef id, for log lines and errors. */
  readonly resource: string
  /** Items per slice (BULK_WRITE_BATCH_SIZE). */
  readonly batchSize: number
  readonly retry: RetryPolicy
  /** MongoDB's circuit breaker. */
  readonly guard: Guard
  /** The container's pacing, shared with the inventory writer: history adds to the same load. */
  readonly pacing: Pacing
}

/**
 * Runs `fn` over `items` in slices of BULK_WRITE_BATCH_SIZE the way the
 * inventory writer runs its chunks (chunk-scheduler.ts): as many in flight and
 * as far apart as the pacing allows now, each attempt fed to the pacing, each
 * slice retried alone on a transient error through the breaker. All or an
 * error: a slice that failed after its retries, or slices the deadline kept
 * from starting, fail the call, so nothing after it (the inventory write, the
 * checkpoint) runs on a history that is not whole.
 */
export async function inPacedSlices<T, R>(
  policy: SlicePolicy,
  items: readonly T[],
  what: string,
  signal: AbortSignal | undefined,
  fn: (slice: T[]) => Promise<readonly R[]>,
): Promise<R[]> {
  const slices = splitIntoChunks(items, Math.max(1, policy.batchSize))
  const results: (readonly R[])[] = []
  const outcome = await runPaced(
    slices.length,
    {
      maxConcurrent: () => policy.pacing.concurrency(),
      delayMs: () => policy.pacing.delayMs(),
      ...(signal ? { signal } : {}),
    },
    async (index) => {
      results[index] = await retried(policy, signal, what, () =>
        observedAttempt(policy.pacing, () => fn(slices[index]!)),
      )
    },
  )
  const failure = outcome.failures.values().next()
  if (!failure.done) throw failure.value
  if (outcome.started < slices.length)
    throw new DeadlineError(
      `${what} for ${policy.resource} stopped by the deadline: ${slices.length - outcome.started} of ${slices.length} slices not started`,
      { context: { resource: policy.resource } },
    )
  return results.flat()
}

/** Retried on transient errors, each attempt through MongoDB's breaker. */
export function retried<T>(
  policy: Pick<SlicePolicy, 'resource' | 'retry' | 'guard'>,
  signal: AbortSignal | undefined,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  return retryWithBackoff(() => policy.guard(fn), `${what} for ${policy.resource}`, {
    policy: policy.retry,
    isFatal: notTransient,
    context: { resource: policy.resource },
    ...(signal ? { signal } : {}),
  })
}
