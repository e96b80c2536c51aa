import { messageOf, RetryExhaustedError } from '../errors.js'
import { classify } from '../classify.js'
import { errorFields, logger } from '../log.js'
import { calculateBackoff, sleep, type RetryPolicy } from '../retry.js'
import type { WatchStreamFn, WatchStreamRequest } from './operations.js'
import type { RefusedObject, ResolvedResource, WatchEvent } from './types.js'
import { watchTimeoutSeconds } from './watch-timeout.js'
import { watchAttempt, type AttemptEnd, type WatchCounters } from './watch-attempt.js'

/*
 * One bounded watch window: the watch reconnection of
 * docs/resilience.md#the-fault-tolerance-contract, for a function that must
 * exit. Watches from a saved resourceVersion, yields every event and bookmark
 * in order, and on a cut (socket hang up, ECONNRESET, ETIMEDOUT,
 * 502/503/504, an early end) reconnects from the last version seen with
 * exponential backoff and jitter, at most RETRY_MAX_ATTEMPTS times in a row.
 * Never reconnects after the window's end or the deadline. One request of the
 * window, and how it can end, is watch-attempt.ts.
 */

export type WatchOutcome = 'window-ended' | 'expired' | 'deadline' | 'failed'

export interface WatchWindowOptions {
  readonly resolved: ResolvedResource
  /** One namespace of a namespaced resource; absent = all namespaces. */
  readonly namespace?: string
  /** The saved checkpoint: events after it are replayed. */
  readonly fromResourceVersion: string
  /** Epoch ms: the stream is closed then, even if it is silent. */
  readonly windowEndsAt: number
  /** The invocation's deadline. */
  readonly signal?: AbortSignal
  /** ENABLE_K8S_WATCH_RECONNECT; false = the first failure ends this resource's window. */
  readonly reconnect: boolean
  /** RETRY_*: reconnection attempts in a row and their backoff. */
  readonly policy: RetryPolicy
  /** K8S_WATCH_TIMEOUT_MS: the longest one watch request stays open. */
  readonly watchTimeoutMs: number
  /** K8S_WATCH_LINE_MAX_BYTES: a longer event fails the window (WatchLineTooLargeError). */
  readonly maxLineBytes?: number
  /** Events whose object the edge refused (served-object.ts), in stream order, to dead-letter. */
  readonly onRefused?: (refused: RefusedObject) => void
  /** A stream open this long counts as healthy even without events (resets the attempt count). Default 5 s. */
  readonly healthyAfterMs?: number
  readonly now?: () => number
  readonly random?: () => number
}

/** The generator's return value. */
export interface WatchWindowResult {
  readonly outcome: WatchOutcome
  /** The last resourceVersion yielded (event or bookmark); the start one if none. */
  readonly resourceVersion: string
  readonly events: number
  readonly bookmarks: number
  /** Times the watch was re-established after a failure. */
  readonly reconnects: number
  /** What ended a window early: a 410 for 'expired', the last failure for 'failed'. */
  readonly error?: unknown
}

const DEFAULT_HEALTHY_AFTER_MS = 5_000

/** One window as it runs: what it has seen and its reconnection attempts. */
interface WindowState {
  readonly options: WatchWindowOptions
  /** `ConfigMap watch`: how log messages name the window. */
  readonly label: string
  readonly now: () => number
  readonly random: () => number
  /** Aborts at the window's end or on the deadline. */
  readonly stop: AbortSignal
  readonly counters: WatchCounters
  /** Failures in a row since the last healthy stream. */
  failures: number
  /** The last stream failed: the next connection is a reconnect. */
  reconnecting: boolean
}

/**
 * Usage: iterate with `next()` to get the result, or with `for await` when
 * only the events matter (the last event's resourceVersion is the checkpoint).
 * Breaking out closes the stream.
 */
export async function* watchWindow(
  watchFn: WatchStreamFn,
  options: WatchWindowOptions,
): AsyncGenerator<WatchEvent, WatchWindowResult, undefined> {
  const now = options.now ?? Date.now
  const window = new AbortController()
  const windowTimer = setTimeout(() => window.abort(), Math.max(0, options.windowEndsAt - now()))
  const state: WindowState = {
    options,
    label: `${options.resolved.kind} watch`,
    now,
    random: options.random ?? Math.random,
    stop: options.signal ? AbortSignal.any([options.signal, window.signal]) : window.signal,
    counters: {
      resourceVersion: options.fromResourceVersion,
      events: 0,
      bookmarks: 0,
      reconnects: 0,
    },
    failures: 0,
    reconnecting: false,
  }
  try {
    for (;;) {
      if (state.stop.aborted || now() >= options.windowEndsAt) return stopped(state)
      const ended = yield* watchAttempt(watchFn, nextRequest(state), {
        stop: state.stop,
        counters: state.counters,
        onConnected: () => connected(state),
        now,
      })
      if (state.stop.aborted) return stopped(state)
      // The server closed the stream at our timeoutSeconds: the normal cycle, watch on at once.
      if (ended.error === undefined) continue
      const next = afterFailure(state, ended)
      if ('result' in next) return next.result
      try {
        await sleep(next.delayMs, state.stop)
      } catch {
        return stopped(state)
      }
      reconnectStarting(state)
    }
  } finally {
    clearTimeout(windowTimer)
  }
}

/** The next watch request: from the last version seen, its timeout spread and within the window. */
function nextRequest(state: WindowState): Omit<WatchStreamRequest, 'signal'> {
  const { resolved, namespace, windowEndsAt, watchTimeoutMs, maxLineBytes, onRefused } =
    state.options
  return {
    resolved,
    namespace,
    resourceVersion: state.counters.resourceVersion,
    timeoutSeconds: watchTimeoutSeconds(watchTimeoutMs, windowEndsAt - state.now(), state.random),
    allowWatchBookmarks: true,
    ...(maxLineBytes ? { maxLineBytes } : {}),
    ...(onRefused ? { onRefused } : {}),
  }
}

/** The backoff has passed and the next request starts: the contract's "Reconnecting..." line. */
function reconnectStarting(state: WindowState): void {
  state.reconnecting = true
  const { resolved, namespace } = state.options
  logger.info(`${state.label}: Reconnecting...`, {
    event: 'watch.reconnect-started',
    resource: resolved.ref.id,
    namespace,
    resourceVersion: state.counters.resourceVersion,
    attempt: state.failures,
  })
}

/** The server answered: after a failure, that is a reconnect (counted and logged once). */
function connected(state: WindowState): void {
  if (!state.reconnecting) return
  state.reconnecting = false
  state.counters.reconnects++
  const { resolved, namespace } = state.options
  logger.info(`${state.label}: Reconnected successfully`, {
    event: 'watch.reconnected',
    resource: resolved.ref.id,
    namespace,
    ...state.counters,
  })
}

/** The window's result, logged once. */
function end(state: WindowState, outcome: WatchOutcome, error?: unknown): WatchWindowResult {
  const { counters } = state
  const { resolved, namespace } = state.options
  logger.info(`${state.label}: window ${outcome}`, {
    event: 'watch.ended',
    resource: resolved.ref.id,
    namespace,
    ...counters,
    outcome,
  })
  return { ...counters, outcome, ...(error === undefined ? {} : { error }) }
}

/** The window's end or the deadline stopped it. */
function stopped(state: WindowState): WatchWindowResult {
  return end(state, state.options.signal?.aborted ? 'deadline' : 'window-ended')
}

/**
 * After a stream that failed: the window's result when it ends here (410,
 * a fatal error, reconnection off or used up), else the backoff before the
 * next attempt.
 */
function afterFailure(
  state: WindowState,
  ended: AttemptEnd,
): { readonly result: WatchWindowResult } | { readonly delayMs: number } {
  const { label, counters } = state
  const { resolved, namespace, policy } = state.options
  const at = { resource: resolved.ref.id, namespace, resourceVersion: counters.resourceVersion }
  const { kind, reason } = classify(ended.error)
  if (kind === 'expired') {
    logger.warn(`${label}: resourceVersion ${at.resourceVersion} is too old (410); relist needed`, {
      event: 'watch.expired',
      ...at,
    })
    return { result: end(state, 'expired', ended.error) }
  }
  // openMs tells a cut after a fixed silence (a proxy's idle timeout) from a random one.
  logger.error(`Error in ${label}: ${messageOf(ended.error)}`, {
    event: 'watch.error',
    ...at,
    openMs: ended.openMs,
    ...errorFields(ended.error),
  })
  if (kind === 'fatal' || !state.options.reconnect) {
    return { result: end(state, 'failed', ended.error) }
  }

  // client-go's backoff manager resets after a healthy run; so does the
  // fault-tolerance contract (docs/resilience.md).
  const healthyAfterMs = state.options.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS
  if (ended.delivered > 0 || ended.openMs >= healthyAfterMs) state.failures = 0
  state.failures++
  if (state.failures > policy.maxAttempts) {
    const message = `${label}: gave up after ${policy.maxAttempts} reconnection attempts (${reason})`
    const context = { resource: at.resource, namespace }
    const gaveUp = new RetryExhaustedError(message, { context, cause: ended.error })
    return { result: end(state, 'failed', gaveUp) }
  }
  const delayMs = calculateBackoff(state.failures, policy, state.random)
  logger.warn(
    `${label}: Reconnecting in ${delayMs}ms (attempt ${state.failures}/${policy.maxAttempts})...`,
    {
      event: 'watch.reconnecting',
      ...at,
      delayMs,
      attempt: state.failures,
      maxAttempts: policy.maxAttempts,
    },
  )
  return { delayMs }
}
