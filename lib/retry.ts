import { getConfig } from './config.js'
import {
  classify,
  DeadlineError,
  FatalOperationError,
  messageOf,
  RetryExhaustedError,
  type ErrorContext,
} from './errors.js'
import { errorFields, logger } from './log.js'

/*
 * Why not cockatiel's RetryPolicy: in 3.2.1 (the last line that runs on
 * Node 20) its backoff delay ignores the AbortSignal, so a retry could sleep
 * past the Lambda deadline. The loop below is small and honours the signal in
 * every sleep and before every attempt; the backoff arithmetic is the spec's.
 */

export interface RetryPolicy {
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly backoffMultiplier: number
}

export interface RetryEvent {
  readonly attempt: number
  readonly maxAttempts: number
  readonly delayMs: number
  readonly error: unknown
  readonly reason: string
}

export interface RetryOptions {
  /** Extra fatal test on top of classify() (the spec's option). */
  readonly isFatal?: (error: unknown) => boolean
  /** The deadline: no sleep outlives it, no attempt starts after it. */
  readonly signal?: AbortSignal
  /** Defaults to the configured RETRY_* values. */
  readonly policy?: RetryPolicy
  /** Context added to the error and to every log line. */
  readonly context?: ErrorContext
  /** Called before each backoff sleep (metrics, reconnect bookkeeping). */
  readonly onRetry?: (event: RetryEvent) => void
  /** Jitter source, injectable for tests. */
  readonly random?: () => number
}

/** Spread of the jitter around the exponential delay: [0.8, 1.2] x base. */
const JITTER = 0.2

function defaultPolicy(): RetryPolicy {
  return getConfig().retry
}

/**
 * Delay before retry number `attempt` (1 = after the first failure):
 * initial x multiplier^(attempt-1), +-20 % jitter so that many invocations
 * failing together do not retry together, never above the cap.
 * Defaults give about 1 s, 2 s, 4 s, 8 s, 16 s.
 */
export function calculateBackoff(
  attempt: number,
  policy: RetryPolicy = defaultPolicy(),
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
 * or the signal aborts. Only errors that classify() calls transient are
 * retried; on giving up the last real error is the `cause`, and the message
 * names the operation, the attempt count and that error.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  context: string,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? defaultPolicy()
  const random = options.random ?? Math.random
  const { signal } = options
  const base: ErrorContext = { ...options.context, operation: context }

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) {
      throw new DeadlineError(`${context}: deadline reached before attempt ${attempt}`, {
        context: { ...base, attempt },
        cause: signal.reason,
      })
    }
    let error: unknown
    try {
      const result = await fn(attempt)
      if (attempt > 1) {
        logger.info(`${context}: succeeded on attempt ${attempt}`, {
          event: 'retry.succeeded',
          ...base,
          attempt,
        })
      }
      return result
    } catch (caught) {
      error = caught
    }

    const { kind, reason, retryAfterMs } = classify(error)
    const ctx: ErrorContext = { ...base, attempt, attempts: policy.maxAttempts }
    if (kind !== 'transient' || options.isFatal?.(error)) {
      throw new FatalOperationError(
        `${context} failed (${reason}, not retried): ${messageOf(error)}`,
        {
          context: ctx,
          cause: error,
        },
      )
    }
    if (attempt >= policy.maxAttempts) {
      logger.error(`${context}: giving up after ${attempt} attempts`, {
        event: 'retry.exhausted',
        ...ctx,
        ...errorFields(error),
      })
      throw new RetryExhaustedError(
        `${context} failed after ${attempt} attempts (${reason}): ${messageOf(error)}`,
        {
          context: ctx,
          cause: error,
        },
      )
    }

    const backoff = calculateBackoff(attempt, policy, random)
    // A server's Retry-After wins over our guess, within the cap.
    const delayMs = Math.min(policy.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0))
    logger.warn(`${context}: retrying in ${delayMs}ms (attempt ${attempt}/${policy.maxAttempts})`, {
      event: 'retry',
      ...ctx,
      delayMs,
      ...errorFields(error),
    })
    options.onRetry?.({ attempt, maxAttempts: policy.maxAttempts, delayMs, error, reason })
    try {
      await sleep(delayMs, signal)
    } catch {
      throw new RetryExhaustedError(
        `${context} failed after ${attempt} attempts (${reason}; deadline reached before the next): ${messageOf(error)}`,
        { context: ctx, cause: error },
      )
    }
  }
}
