import { messageOf } from '../errors.js'
import type { ResolvedResource, WatchEvent } from '../kube/types.js'
import { errorFields, logger } from '../log.js'
import { ChunkedWriteError } from '../store/writes/bulk-writer.js'
import type { WriteCounts } from '../store/writes/write-op.js'
import { EventBatch } from './event-batch.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { WatchWindowResult } from '../kube/watcher.js'
import type { ResourceStore } from '../store/resource-store.js'
import { reconcileResource, type ResourceStatus } from './reconcile-resource.js'

/**
 * How long an event may wait for company before it is written: short enough
 * that an event reaches MongoDB within about a second, long enough that a
 * burst shares a few bulk writes.
 */
export const FLUSH_INTERVAL_MS = 200

/** Below this much window left, a 410 is left to the next invocation rather than relisted now. */
export const MIN_RELIST_WINDOW_MS = 5_000

export interface WatchReport {
  resource: string
  status: ResourceStatus
  events: number
  bookmarks: number
  reconnects: number
  relists: number
  relistNeeded: boolean
  inserted: number
  updated: number
  deleted: number
  /** Chunk writes retried, failed for good, and adaptive-pacing slowdowns (metrics). */
  chunkRetries: number
  chunkFailures: number
  pacingSlowdowns: number
  /** The longest an event waited between arriving and its write being acknowledged. */
  eventLagMaxMs: number
  /** Objects stored in sync_dead_letters instead of the inventory (retried by the next reconcile). */
  deadLettered: number
  resourceVersion?: string
  /** When the resource last completed a full list (ISO), as far as this run knows; null = never. */
  lastCompleteSyncAt?: string | null
  durationMs: number
  error?: string
}

/** A report with every count at zero (a resource not started, skipped or failed early). */
export function newWatchReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): WatchReport {
  return {
    resource,
    status,
    events: 0,
    bookmarks: 0,
    reconnects: 0,
    relists: 0,
    relistNeeded: false,
    inserted: 0,
    updated: 0,
    deleted: 0,
    chunkRetries: 0,
    chunkFailures: 0,
    pacingSlowdowns: 0,
    eventLagMaxMs: 0,
    deadLettered: 0,
    durationMs: 0,
    ...(error === undefined ? {} : { error }),
  }
}

export interface WatchResourceOptions {
  readonly resolved: ResolvedResource
  readonly source: ClusterSource
  readonly store: ResourceStore
  readonly signal: AbortSignal
  readonly windowEndsAt: number
  /** Flush when this many distinct objects wait (BULK_WRITE_BATCH_SIZE). */
  readonly maxBatch: number
  readonly remainingMs: () => number
}

/**
 * Replays one bounded watch window of one resource: events are coalesced and
 * written in small batches, and the checkpoint moves only after the writes it
 * covers are acknowledged. A resource without a checkpoint, or marked for
 * relist, is reconciled first; a 410 relists it within the window if time
 * allows. The caller holds the lease.
 */
export async function watchResource(options: WatchResourceOptions): Promise<WatchReport> {
  const { resolved, source, store } = options
  const started = Date.now()
  const log = { resource: resolved.ref.id }
  const report = newWatchReport(resolved.ref.id, 'complete')
  // Stops the watch when a write fails, so nothing is acknowledged past it.
  const stop = new AbortController()
  const signal = AbortSignal.any([options.signal, stop.signal])

  const relist = async (): Promise<string | undefined> => {
    report.relists++
    const rec = await reconcileResource({
      resolved,
      source,
      store,
      signal,
      remainingMs: options.remainingMs,
    })
    report.deadLettered += rec.deadLettered
    if (rec.status !== 'complete' || !rec.listResourceVersion) {
      report.relistNeeded = true
      report.error = `relist ${rec.status}: ${rec.error ?? 'unknown'}`
      return undefined
    }
    report.inserted += rec.inserted
    report.updated += rec.updated
    report.deleted += rec.deleted
    report.lastCompleteSyncAt = rec.lastCompleteSyncAt ?? null
    report.chunkRetries += rec.chunkRetries
    report.chunkFailures += rec.chunkFailures
    report.pacingSlowdowns += rec.pacingSlowdowns
    return rec.listResourceVersion
  }

  try {
    const state = await store.getState()
    report.lastCompleteSyncAt = state?.lastFullSyncAt?.toISOString() ?? null
    let from = state?.needsRelist ? undefined : (state?.watchResourceVersion ?? undefined)
    if (!from) {
      logger.info(`${resolved.ref.id}: no usable checkpoint, reconciling first`, {
        event: 'watch.relist',
        ...log,
      })
      from = await relist()
    }
    while (from && !signal.aborted && Date.now() < options.windowEndsAt) {
      const watchedFrom = from
      const savedBefore = report.resourceVersion
      const result = await replay(options, from, signal, stop, report)
      report.reconnects += result.reconnects
      from = undefined
      if (result.outcome === 'expired') {
        await store.markNeedsRelist('410 Gone on watch')
        logger.warn(`${resolved.kind} watch: resourceVersion expired (410), relist needed`, {
          event: 'watch.expired',
          ...log,
          resourceVersion: result.resourceVersion,
        })
        if (options.windowEndsAt - Date.now() >= MIN_RELIST_WINDOW_MS && !signal.aborted) {
          from = await relist()
          if (from) report.resourceVersion = from
        } else {
          report.relistNeeded = true
        }
      } else if (result.outcome === 'failed') {
        report.status = 'failed'
        report.error = messageOf(result.error)
      } else if (result.outcome === 'deadline') {
        report.status = 'partial'
        report.error = 'deadline reached during the window'
      } else if (report.resourceVersion === savedBefore) {
        // A quiet window (no event, no bookmark: kube-apiserver sends none in
        // a short one) still is a window: stamp lastWatchAt at the version it
        // started from, so GET /health tells a quiet resource from a stopped watch.
        await store.saveWatchCheckpoint(watchedFrom, { events: 0 })
      }
    }
    if (!report.resourceVersion && report.relistNeeded) report.status = 'failed'
  } catch (error) {
    report.status = options.signal.aborted ? 'partial' : 'failed'
    report.error = messageOf(error)
    logger.error(`watch of ${resolved.ref.id} ${report.status}`, {
      event: 'watch.failed',
      ...log,
      ...errorFields(error),
    })
    await store.recordError(report.error).catch(() => undefined)
  }
  report.durationMs = Date.now() - started
  return report
}

function addWriteCounts(report: WatchReport, counts: WriteCounts): void {
  report.inserted += counts.inserted
  report.updated += counts.updated
  report.deleted += counts.deleted
  report.chunkRetries += counts.retriedChunks
  report.chunkFailures += counts.failedChunks
  report.pacingSlowdowns += counts.pacingSlowdowns
  report.deadLettered += counts.deadLettered
}

/** One watch from `from` until the window ends, writing batches as they fill or age. */
async function replay(
  options: WatchResourceOptions,
  from: string,
  signal: AbortSignal,
  stop: AbortController,
  report: WatchReport,
): Promise<WatchWindowResult> {
  const { store } = options
  const batch = new EventBatch()
  let chain: Promise<void> = Promise.resolve()
  let writeError: unknown

  const flush = (): Promise<void> => {
    chain = chain.then(async () => {
      if (writeError !== undefined) return
      const { ops, events, resourceVersion, oldestEventAt } = batch.take()
      if (resourceVersion === undefined) return
      try {
        if (ops.length > 0) {
          // An event the server refuses comes back as a dead letter, not as an error, and
          // the checkpoint below moves past it. Invariant 5 holds: its write was answered
          // (refused for good, retrying it here cannot help) and its dead letter is stored
          // before the write returns, so nothing is lost, only deferred: the next reconcile
          // lists the object, finds it not stored at that version, and writes it again.
          // Blocking the checkpoint instead would stall every later event of the resource.
          const counts = await store.write(ops, undefined, 'watch').catch((error: unknown) => {
            if (error instanceof ChunkedWriteError) addWriteCounts(report, error.counts)
            throw error
          })
          addWriteCounts(report, counts)
          if (oldestEventAt !== undefined)
            report.eventLagMaxMs = Math.max(report.eventLagMaxMs, Date.now() - oldestEventAt)
        }
        await store.saveWatchCheckpoint(resourceVersion, { events })
        report.resourceVersion = resourceVersion
      } catch (error) {
        // Failed after every retry: recorded as dead letters where MongoDB allowed, and
        // the checkpoint stays put, so the next window replays these events anyway.
        writeError = error
        stop.abort(error)
      }
    })
    return chain
  }
  const timer = setInterval(() => {
    if (batch.lastResourceVersion !== undefined) void flush()
  }, FLUSH_INTERVAL_MS)

  const events = options.source.watch(options.resolved, {
    fromResourceVersion: from,
    windowEndsAt: options.windowEndsAt,
    signal,
  })
  let result: WatchWindowResult
  try {
    for (;;) {
      const next: IteratorResult<WatchEvent, WatchWindowResult> = await events.next()
      if (next.done) {
        result = next.value
        break
      }
      if (next.value.type === 'BOOKMARK') report.bookmarks++
      else report.events++
      batch.add(next.value)
      // Backpressure: a full batch is written before more events are read.
      if (batch.size >= options.maxBatch) await flush()
    }
  } catch (error) {
    // Events already read are true changes: write them before giving up.
    await flush()
    throw error
  } finally {
    clearInterval(timer)
  }
  await flush()
  if (writeError !== undefined) return { ...result, outcome: 'failed', error: writeError }
  return result
}
