import {
  DeadlineError,
  FatalOperationError,
  messageOf,
  NotRetriedError,
  RetryExhaustedError,
  type ErrorContext,
} from './errors.js'
import { classify, isKnownFatal } from './classify.js'
import { errorFields, logger } from './log.js'

/*
 * Why not cockatiel's RetryPolicy: in 3.2.1 (the last line that runs on
 * Node 20) its backoff delay ignores the AbortSignal, so a retry could sleep
 * past the Lambda deadline. The loop below is small and honours the signal in
 * every sleep and before every attempt; backoff as in docs/resilience.md#retry-and-error-handling.
 * Like cockatiel, it reports what happens through typed events and leaves
 * logging to the caller, who knows the context: a caller that passes a
 * handler logs that event itself, once; a missing handler is replaced by one
 * default log line (logRetry, logSuccessAfterRetry, logGiveUp).
 */

/** The RETRY_* settings; callers pass the configured ones (`config.retry`). */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly backoffMultiplier: number
}

/** What every retry event says. */
export interface RetryEventBase {
  /** The operation, as named to retryWithBackoff. */
  readonly operation: string
  /** The caller's context, with `operation`. */
  readonly context: ErrorContext
  /** The attempt that just ended (1 = the first). */
  readonly attempt: number
  readonly maxAttempts: number
}

/** An attempt failed with an error `isFatal` did not call fatal; the next starts after `delayMs`. */
export interface RetryEvent extends RetryEventBase {
  readonly delayMs: number
  readonly error: unknown
  /** classify()'s reason for `error`. */
  readonly reason: string
}

/** An attempt after at least one failure succeeded. */
export type RetrySuccessEvent = RetryEventBase

/** The last attempt failed with an error `isFatal` did not call fatal; RetryExhaustedError follows. */
export interface RetryGiveUpEvent extends RetryEventBase {
  readonly error: unknown
  readonly reason: string
}

export interface RetryOptions {
  readonly policy: RetryPolicy
  /**
   * Says which errors are not retried; every other error is
   * (docs/resilience.md#retry-and-error-handling). Default: isKnownFatal,
   * the project's fatal classification. The sync's own calls pass
   * notTransient (classify.ts), which retries transient errors only.
   */
  readonly isFatal?: (error: unknown) => boolean
  /** The deadline: no sleep outlives it, no attempt starts after it. */
  readonly signal?: AbortSignal
  /** Context added to the error and to every event. */
  readonly context?: ErrorContext
  /** Before each backoff sleep. Default: logRetry (one 'retry' warn line). */
  readonly onRetry?: (event: RetryEvent) => void
  /** A success after a retry. Default: logSuccessAfterRetry (one 'retry.succeeded' info line). */
  readonly onSuccessAfterRetry?: (event: RetrySuccessEvent) => void
  /** The attempts are used up. Default: logGiveUp (one 'retry.exhausted' error line). */
  readonly onGiveUp?: (event: RetryGiveUpEvent) => void
  /** Jitter source, injectable for tests. */
  readonly random?: () => number
}

/** Spread of the jitter around the exponential delay: [0.8, 1.2] x base. */
const JITTER = 0.2

/**
 * Delay before retry number `attempt` (1 = after the first failure):
 * initial x multiplier^(attempt-1), +-20 % jitter so that many invocations
 * failing together do not retry together, never above the cap.
 * The documented RETRY_* defaults give about 1 s, 2 s, 4 s, 8 s, 16 s.
 */
export function calculateBackoff(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1)
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.backoffMultiplier ** exponent,
  )
  const jittered = base * (1 - JITTER + 2 * JITTER * random())
  return Math.round(Math.min(policy.maxDelayMs, jittered))
}

/** Waits `ms`; rejects with a DeadlineError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(deadlineError(signal))
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(deadlineError(signal))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function deadlineError(signal: AbortSignal | undefined): DeadlineError {
  const reason: unknown = signal?.reason
  return reason instanceof DeadlineError
    ? reason
    : new DeadlineError('deadline reached', { cause: reason })
}

/**
 * Runs `fn` until it succeeds, a fatal error occurs, the attempts are used up
 * or the signal aborts. Any error is retried unless `isFatal` calls it fatal
 * (the fault-tolerance contract); our own NotRetriedErrors (the deadline, an
 * open circuit breaker) never are, whatever `isFatal` says, since retrying
 * them would defeat them. On giving up the last real error is the `cause`,
 * and the message names the operation, the attempt count and that error.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  operation: string,
  options: RetryOptions,
): Promise<T> {
  const { policy, signal } = options
  const context: ErrorContext = { ...options.context, operation }

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) {
      throw new DeadlineError(`${operation}: deadline reached before attempt ${attempt}`, {
        context: { ...context, attempt },
        cause: signal.reason,
      })
    }
    const event: RetryEventBase = { operation, context, attempt, maxAttempts: policy.maxAttempts }
    let error: unknown
    try {
      const result = await fn(attempt)
      const onSuccess = options.onSuccessAfterRetry ?? logSuccessAfterRetry
      if (attempt > 1) onSuccess(event)
      return result
    } catch (caught) {
      error = caught
    }
    const { delayMs, reason } = afterFailure(error, event, options)
    try {
      await sleep(delayMs, signal)
    } catch {
      throw new RetryExhaustedError(
        `${operation} failed after ${attempt} attempts (${reason}; deadline reached before the next): ${messageOf(error)}`,
        { context: failureContext(event), cause: error },
      )
    }
  }
}

/**
 * After a failed attempt: throws FatalOperationError (not retried) or
 * RetryExhaustedError (attempts used up), else reports the retry and says how
 * long to wait.
 */
function afterFailure(
  error: unknown,
  event: RetryEventBase,
  options: RetryOptions,
): { readonly delayMs: number; readonly reason: string } {
  const { operation, attempt } = event
  const { policy } = options
  const { reason, retryAfterMs } = classify(error)
  const isFatal = options.isFatal ?? isKnownFatal
  if (error instanceof NotRetriedError || isFatal(error)) {
    throw new FatalOperationError(
      `${operation} failed (${reason}, not retried): ${messageOf(error)}`,
      { context: failureContext(event), cause: error },
    )
  }
  if (attempt >= policy.maxAttempts) {
    const onGiveUp = options.onGiveUp ?? logGiveUp
    onGiveUp({ ...event, error, reason })
    throw new RetryExhaustedError(
      `${operation} failed after ${attempt} attempts (${reason}): ${messageOf(error)}`,
      { context: failureContext(event), cause: error },
    )
  }
  const backoff = calculateBackoff(attempt, policy, options.random ?? Math.random)
  // A server's Retry-After wins over our guess, within the cap.
  const delayMs = Math.min(policy.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0))
  const onRetry = options.onRetry ?? logRetry
  onRetry({ ...event, delayMs, error, reason })
  return { delayMs, reason }
}

/** The context of a failure's error and log line: the caller's, the attempt, the attempts allowed. */
function failureContext(event: RetryEventBase): ErrorContext {
  return { ...event.context, attempt: event.attempt, attempts: event.maxAttempts }
}

/** The default onRetry: one 'retry' warn line. */
function logRetry(event: RetryEvent): void {
  const { operation, attempt, maxAttempts, delayMs } = event
  logger.warn(`${operation}: retrying in ${delayMs}ms (attempt ${attempt}/${maxAttempts})`, {
    event: 'retry',
    ...failureContext(event),
    delayMs,
    ...errorFields(event.error),
  })
}

/** The default onSuccessAfterRetry: one 'retry.succeeded' info line. */
function logSuccessAfterRetry(event: RetrySuccessEvent): void {
  logger.info(`${event.operation}: succeeded on attempt ${event.attempt}`, {
    event: 'retry.succeeded',
    ...event.context,
    attempt: event.attempt,
  })
}

/** The default onGiveUp: one 'retry.exhausted' error line. */
function logGiveUp(event: RetryGiveUpEvent): void {
  logger.error(`${event.operation}: giving up after ${event.attempt} attempts`, {
    event: 'retry.exhausted',
    ...failureContext(event),
    ...errorFields(event.error),
  })
}
