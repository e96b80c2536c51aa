import { WatchEndedEarlyError, WatchStalledError } from './errors.js'
import type { WatchStreamFn, WatchStreamRequest } from './operations.js'
import type { WatchEvent } from './types.js'

/*
 * One watch request of a window (watcher.ts): its events in order, then how
 * it ended. The server ends a watch at the timeoutSeconds we asked for: that
 * is the normal end. A stream that closes well before it was cut
 * (WatchEndedEarlyError); one that sends nothing, not even its end, well past
 * it is a dead connection (WatchStalledError). Never throws: the window
 * decides what a failure means.
 */

/** The server ends a watch at its timeoutSeconds; an end this much sooner is early. */
const EARLY_END_TOLERANCE_MS = 1_000
/** Silence this long past timeoutSeconds means the connection is dead. */
const STALL_GRACE_MS = 5_000

/** What a window has seen; an attempt advances it as events arrive. */
export interface WatchCounters {
  /** The last resourceVersion yielded (event or bookmark). */
  resourceVersion: string
  events: number
  bookmarks: number
  reconnects: number
}

export interface AttemptOptions {
  /** The window's end or the deadline: aborting closes the stream. */
  readonly stop: AbortSignal
  readonly counters: WatchCounters
  /** The server answered 200. */
  readonly onConnected: () => void
  readonly now: () => number
}

export interface AttemptEnd {
  /** Undefined when the server ended the stream at the requested timeout. */
  readonly error?: unknown
  /** Events and bookmarks this attempt yielded. */
  readonly delivered: number
  readonly openMs: number
}

export async function* watchAttempt(
  watchFn: WatchStreamFn,
  request: Omit<WatchStreamRequest, 'signal'>,
  options: AttemptOptions,
): AsyncGenerator<WatchEvent, AttemptEnd, undefined> {
  const { counters, now } = options
  const own = new AbortController()
  const timeoutMs = request.timeoutSeconds * 1000
  const stallTimer = setTimeout(() => own.abort(), timeoutMs + STALL_GRACE_MS)
  const startedAt = now()
  const watch = `watch ${request.resolved.ref.id}`
  const context = () => ({
    resource: request.resolved.ref.id,
    namespace: request.namespace,
    resourceVersion: counters.resourceVersion,
  })
  let delivered = 0
  try {
    const signal = AbortSignal.any([options.stop, own.signal])
    const events = await watchFn({ ...request, signal })
    options.onConnected()
    for await (const event of events) {
      counters.resourceVersion = event.object.metadata.resourceVersion
      if (event.type === 'BOOKMARK') counters.bookmarks++
      else counters.events++
      delivered++
      yield event
    }
    const openMs = now() - startedAt
    if (openMs < timeoutMs - EARLY_END_TOLERANCE_MS) {
      const message = `${watch}: stream ended after ${openMs}ms of ${timeoutMs}ms`
      return { error: new WatchEndedEarlyError(message, { context: context() }), delivered, openMs }
    }
    return { delivered, openMs }
  } catch (error) {
    const openMs = now() - startedAt
    if (own.signal.aborted && !options.stop.aborted) {
      const message = `${watch}: silent for ${openMs}ms`
      const stalled = new WatchStalledError(message, { context: context(), cause: error })
      return { error: stalled, delivered, openMs }
    }
    return { error, delivered, openMs }
  } finally {
    clearTimeout(stallTimer)
    own.abort()
  }
}
