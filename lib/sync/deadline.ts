import { DeadlineError } from '../errors.js'

/**
 * Time kept back before the Lambda deadline: in-flight chunks finish, the
 * checkpoint is saved and the report is returned. A bulk chunk of 100
 * documents and a checkpoint write take well under a second on a healthy
 * database; 10 s also covers one slow retry.
 */
export const DEFAULT_SAFETY_MARGIN_MS = 10_000

export interface Deadline {
  readonly signal: AbortSignal
  /** Epoch ms at which the signal fires. */
  readonly at: number
  /** Epoch ms at which the time left runs out (`at` plus the margin): the Lambda's own timeout. */
  readonly endsAt: number
  remainingMs(this: void): number
  dispose(this: void): void
}

/**
 * An AbortSignal that fires `marginMs` before the time left runs out (or when
 * `parent` fires, e.g. middy's early-timeout signal), with a DeadlineError.
 */
export function createDeadline(
  timeLeftMs: number,
  marginMs = DEFAULT_SAFETY_MARGIN_MS,
  parent?: AbortSignal,
  now: () => number = Date.now,
): Deadline {
  const controller = new AbortController()
  const budget = Math.max(0, timeLeftMs - marginMs)
  const at = now() + budget
  const timer = setTimeout(
    () => controller.abort(new DeadlineError(`deadline reached (${budget} ms budget)`)),
    budget,
  )
  timer.unref()
  const onParent = () =>
    controller.abort(
      parent?.reason instanceof DeadlineError
        ? parent.reason
        : new DeadlineError('invocation aborted', { cause: parent?.reason }),
    )
  if (parent?.aborted) onParent()
  else parent?.addEventListener('abort', onParent, { once: true })
  return {
    signal: controller.signal,
    at,
    endsAt: at + Math.min(marginMs, timeLeftMs),
    remainingMs: () => Math.max(0, at - now()),
    dispose: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParent)
    },
  }
}
