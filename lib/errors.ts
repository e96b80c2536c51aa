import { redactText } from './redact.js'

/** The project's own errors: each names its operation and carries context and a cause. */

/** Context every error and log line of the project may carry. */
export interface ErrorContext {
  readonly operation?: string
  readonly cluster?: string
  readonly resource?: string
  readonly namespace?: string
  readonly page?: number
  readonly chunk?: number
  readonly chunks?: number
  readonly resourceVersion?: string
  readonly attempt?: number
  readonly attempts?: number
  readonly secretId?: string
}

/** What every error of the project may be built with. */
export interface SyncErrorOptions {
  readonly context?: ErrorContext
  readonly cause?: unknown
}

/** The project's own errors: a message naming the operation, context, and the cause. */
export class SyncError extends Error {
  override readonly name: string = 'SyncError'
  readonly context: ErrorContext

  constructor(message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.context = Object.freeze({ ...options.context })
  }
}

/*
 * Our own failures say their kind by class: each extends one of the two bases
 * below, and classify() (classify.ts) reads the base with `instanceof`. The
 * bases live here, not beside their subclasses (lib/kube/errors.ts,
 * lib/resilience), so that classify() needs none of those modules.
 */

/**
 * A failure another attempt can cure: a request timeout, a cut watch stream,
 * a silent connection. classify() calls it transient, with its `reason`.
 */
export abstract class TransientError extends SyncError {
  override readonly name: string = 'TransientError'
  /** What classify() reports (logs carry it as `error.reason`). */
  abstract readonly reason: string
}

/**
 * A failure no further attempt may follow: it cannot help (a protocol bug, a
 * resource the server does not serve) or it would defeat its purpose (the
 * deadline, an open circuit breaker). classify() calls it fatal, with its
 * `reason`.
 */
export abstract class NotRetriedError extends SyncError {
  override readonly name: string = 'NotRetriedError'
  /** What classify() reports (logs carry it as `error.reason`). */
  abstract readonly reason: string
}

/** Thrown when every attempt failed; `cause` is the last real error. */
export class RetryExhaustedError extends SyncError {
  override readonly name = 'RetryExhaustedError'
}

/** A fatal error stopped the retries at once; `cause` is that error. */
export class FatalOperationError extends SyncError {
  override readonly name = 'FatalOperationError'
}

/** The deadline (AbortSignal) ended the work before it could finish. */
export class DeadlineError extends NotRetriedError {
  override readonly name = 'DeadlineError'
  override readonly reason = 'deadline'
}

/** Invalid configuration: one line per problem, all problems at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.problems = Object.freeze([...problems])
  }
}

/**
 * The message of any thrown value, for logs, reports and stored errors,
 * redacted here at the source (docs/security.md#what-is-redacted-where).
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return redactText(error.message)
  return redactText(typeof error === 'string' ? error : String(JSON.stringify(error)))
}
