import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResolvedResource, WatchEvent } from '../kube/types.js'
import type { WatchWindowResult } from '../kube/watcher.js'
import type { ResourceStore } from '../store/resource-store.js'
import { BatchFlusher, type FlushProgress } from './batch-flusher.js'

export interface ReplayWindowOptions {
  readonly resolved: ResolvedResource
  readonly source: ClusterSource
  readonly store: ResourceStore
  readonly windowEndsAt: number
  /** Flush when this many distinct objects wait (BULK_WRITE_BATCH_SIZE). */
  readonly maxBatch: number
}

/** What replaying moves on in the watch report. */
export interface WindowProgress extends FlushProgress {
  events: number
  bookmarks: number
}

/** One watch's start, and how it ends early: the deadline, or `stop` (aborted by a failed write). */
export interface WindowStart {
  readonly from: string
  readonly signal: AbortSignal
  readonly stop: AbortController
}

/**
 * One watch from `start.from` until the window ends, writing batches as they
 * fill or age. A write that failed for good ends the watch and the window's
 * outcome is 'failed', whatever the watch itself said.
 */
export async function replayWindow(
  options: ReplayWindowOptions,
  start: WindowStart,
  progress: WindowProgress,
): Promise<WatchWindowResult> {
  const flusher = new BatchFlusher(options.store, progress, start.stop, start.signal)
  const events = options.source.watch(options.resolved, {
    fromResourceVersion: start.from,
    windowEndsAt: options.windowEndsAt,
    signal: start.signal,
    // An event the edge refused is an event too: counted, and dead-lettered by the next flush.
    onRefused: (refused) => {
      progress.events++
      flusher.refuse(refused)
    },
  })
  flusher.start()
  let result: WatchWindowResult
  try {
    result = await readEvents(events, flusher, progress, options.maxBatch)
  } catch (error) {
    // Events already read are true changes: write them before giving up.
    await flusher.flush()
    throw error
  } finally {
    flusher.close()
  }
  await flusher.flush()
  const { failure } = flusher
  return failure ? { ...result, outcome: 'failed', error: failure.error } : result
}

async function readEvents(
  events: AsyncGenerator<WatchEvent, WatchWindowResult>,
  flusher: BatchFlusher,
  progress: WindowProgress,
  maxBatch: number,
): Promise<WatchWindowResult> {
  for (;;) {
    const next = await events.next()
    if (next.done) return next.value
    if (next.value.type === 'BOOKMARK') progress.bookmarks++
    else progress.events++
    flusher.add(next.value)
    // Backpressure: a full batch is written before more events are read.
    if (flusher.size >= maxBatch) await flusher.flush()
  }
}
