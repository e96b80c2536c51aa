import { getConfig } from '../config.js'
import { classify, messageOf, RetryExhaustedError } from '../errors.js'
import { errorFields, logger } from '../log.js'
import { calculateBackoff, sleep, type RetryPolicy } from '../retry.js'
import { WatchEndedEarlyError, WatchStalledError } from './errors.js'
import type { WatchStreamFn, WatchStreamRequest } from './operations.js'
import type { ResolvedResource, WatchEvent } from './types.js'
import { watchTimeoutSeconds } from './watch-timeout.js'

/*
 * One bounded watch window: the spec's "Kubernetes Watch Reconnection" for a
 * function that must exit. Watches from a saved resourceVersion, yields every
 * event and bookmark in order, and on a cut (socket hang up, ECONNRESET,
 * ETIMEDOUT, 502/503/504, an early end) reconnects from the last version
 * seen with exponential backoff and jitter, at most RETRY_MAX_ATTEMPTS times
 * in a row. Never reconnects after the window's end or the deadline.
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
  readonly reconnect?: boolean
  readonly policy?: RetryPolicy
  /** K8S_WATCH_TIMEOUT_MS: the longest one watch request stays open. */
  readonly watchTimeoutMs?: number
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
/** The server ends a watch at its timeoutSeconds; an end this much sooner is early. */
const EARLY_END_TOLERANCE_MS = 1_000
/** Silence this long past timeoutSeconds means the connection is dead. */
const STALL_GRACE_MS = 5_000

interface Counters {
  resourceVersion: string
  events: number
  bookmarks: number
  reconnects: number
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
  const random = options.random ?? Math.random
  const policy = options.policy ?? getConfig().retry
  const reconnect = options.reconnect ?? getConfig().features.k8sWatchReconnect
  const watchTimeoutMs = options.watchTimeoutMs ?? getConfig().k8s.watchTimeoutMs
  const healthyAfterMs = options.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS
  const { resolved, namespace, windowEndsAt } = options
  const resource = resolved.ref.id
  const label = `${resolved.kind} watch`

  const window = new AbortController()
  const windowTimer = setTimeout(() => window.abort(), Math.max(0, windowEndsAt - now()))
  const stop = options.signal ? AbortSignal.any([options.signal, window.signal]) : window.signal
  const counters: Counters = {
    resourceVersion: options.fromResourceVersion,
    events: 0,
    bookmarks: 0,
    reconnects: 0,
  }
  const end = (outcome: WatchOutcome, error?: unknown): WatchWindowResult => {
    const result = { ...counters, outcome, ...(error === undefined ? {} : { error }) }
    logger.info(`${label}: window ${outcome}`, {
      event: 'watch.ended',
      resource,
      namespace,
      ...counters,
      outcome,
    })
    return result
  }
  const stopped = () => end(options.signal?.aborted ? 'deadline' : 'window-ended')

  let failures = 0
  let reconnecting = false
  try {
    for (;;) {
      if (stop.aborted || now() >= windowEndsAt) return stopped()
      const request = {
        resolved,
        namespace,
        resourceVersion: counters.resourceVersion,
        timeoutSeconds: watchTimeoutSeconds(watchTimeoutMs, windowEndsAt - now(), random),
        allowWatchBookmarks: true as const,
      }
      const onConnected = () => {
        if (!reconnecting) return
        reconnecting = false
        counters.reconnects++
        logger.info(`${label}: Reconnected successfully`, {
          event: 'watch.reconnected',
          resource,
          namespace,
          ...counters,
        })
      }
      const ended = yield* streamOnce(watchFn, request, stop, counters, onConnected, now)
      if (stop.aborted) return stopped()
      // The server closed the stream at our timeoutSeconds: the normal cycle, watch on at once.
      if (ended.error === undefined) continue

      const { kind, reason } = classify(ended.error)
      if (kind === 'expired') {
        logger.warn(
          `${label}: resourceVersion ${counters.resourceVersion} is too old (410); relist needed`,
          {
            event: 'watch.expired',
            resource,
            namespace,
            resourceVersion: counters.resourceVersion,
          },
        )
        return end('expired', ended.error)
      }
      logger.error(`Error in ${label}: ${messageOf(ended.error)}`, {
        event: 'watch.error',
        resource,
        namespace,
        resourceVersion: counters.resourceVersion,
        ...errorFields(ended.error),
      })
      if (kind === 'fatal' || !reconnect) return end('failed', ended.error)

      // client-go's backoff manager resets after a healthy run; so does the spec ("Success -> Reset Attempts").
      if (ended.delivered > 0 || ended.openMs >= healthyAfterMs) failures = 0
      failures++
      if (failures > policy.maxAttempts) {
        const message = `${label}: gave up after ${policy.maxAttempts} reconnection attempts (${reason})`
        return end(
          'failed',
          new RetryExhaustedError(message, {
            context: { resource, namespace },
            cause: ended.error,
          }),
        )
      }
      const delayMs = calculateBackoff(failures, policy, random)
      logger.warn(
        `${label}: Reconnecting in ${delayMs}ms (attempt ${failures}/${policy.maxAttempts})...`,
        {
          event: 'watch.reconnecting',
          resource,
          namespace,
          resourceVersion: counters.resourceVersion,
          delayMs,
          attempt: failures,
          maxAttempts: policy.maxAttempts,
        },
      )
      try {
        await sleep(delayMs, stop)
      } catch {
        return stopped()
      }
      reconnecting = true
    }
  } finally {
    clearTimeout(windowTimer)
  }
}

interface StreamEnd {
  /** Undefined when the server ended the stream at the requested timeout. */
  readonly error?: unknown
  readonly delivered: number
  readonly openMs: number
}

/** One watch request: yields its events, then says how it ended (never throws). */
async function* streamOnce(
  watchFn: WatchStreamFn,
  request: Omit<WatchStreamRequest, 'signal'>,
  stop: AbortSignal,
  counters: Counters,
  onConnected: () => void,
  now: () => number,
): AsyncGenerator<WatchEvent, StreamEnd, undefined> {
  const own = new AbortController()
  const timeoutMs = request.timeoutSeconds * 1000
  const stallTimer = setTimeout(() => own.abort(), timeoutMs + STALL_GRACE_MS)
  const startedAt = now()
  let delivered = 0
  try {
    const events = await watchFn({ ...request, signal: AbortSignal.any([stop, own.signal]) })
    onConnected()
    for await (const event of events) {
      counters.resourceVersion = event.object.metadata.resourceVersion
      if (event.type === 'BOOKMARK') counters.bookmarks++
      else counters.events++
      delivered++
      yield event
    }
    const openMs = now() - startedAt
    if (openMs < timeoutMs - EARLY_END_TOLERANCE_MS) {
      const error = new WatchEndedEarlyError(
        `watch ${request.resolved.ref.id}: stream ended after ${openMs}ms of ${timeoutMs}ms`,
      )
      return { error, delivered, openMs }
    }
    return { delivered, openMs }
  } catch (error) {
    const openMs = now() - startedAt
    if (own.signal.aborted && !stop.aborted) {
      const stalled = new WatchStalledError(
        `watch ${request.resolved.ref.id}: silent for ${openMs}ms`,
        { cause: error },
      )
      return { error: stalled, delivered, openMs }
    }
    return { error, delivered, openMs }
  } finally {
    clearTimeout(stallTimer)
    own.abort()
  }
}
