import type { RefusedObject, WatchEvent } from '../kube/types.js'
import type { ResourceStore } from '../store/resource-store.js'
import { countedWrite } from './counted-write.js'
import { EventBatch } from './event-batch.js'
import {
  addWriteCounts,
  type ReportHistoryCounts,
  type ReportWriteCounts,
} from './resource-report.js'

/**
 * How long an event may wait for company before it is written: short enough
 * that an event reaches MongoDB within about a second, long enough that a
 * burst shares a few bulk writes.
 */
const FLUSH_INTERVAL_MS = 200

/** What flushing moves on in the watch report. */
export interface FlushProgress extends ReportWriteCounts, ReportHistoryCounts {
  /** The longest an event waited between arriving and its write being acknowledged. */
  eventLagMaxMs: number
  /** The watch checkpoint saved last: every event up to it is written. */
  resourceVersion?: string
}

/**
 * Writes a watch window's events in coalesced batches, one flush after the
 * other, and moves the watch checkpoint once a batch's writes are
 * acknowledged (docs/design.md#invariant-5-checkpoints-after-writes). A write
 * that fails ends the flushing and aborts `stop` (which ends the watch), so
 * nothing is acknowledged past it. The writes get the deadline's `signal`: no
 * chunk and no backoff starts after it fires, chunks in flight finish, and the
 * checkpoint stays where the last acknowledged batch left it.
 */
export class BatchFlusher {
  readonly #batch: EventBatch
  readonly #store: ResourceStore
  readonly #progress: FlushProgress
  readonly #stop: AbortController
  readonly #signal: AbortSignal
  /** Events the Kubernetes edge refused since the last flush, dead-lettered by it. */
  #refused: RefusedObject[] = []
  #chain: Promise<void> = Promise.resolve()
  #failure: { readonly error: unknown } | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    store: ResourceStore,
    progress: FlushProgress,
    stop: AbortController,
    signal: AbortSignal,
  ) {
    this.#store = store
    // A resource under history keeps its events in order (lib/store/history/).
    this.#batch = new EventBatch(store.recordHistory !== undefined)
    this.#progress = progress
    this.#stop = stop
    this.#signal = signal
  }

  /** Distinct objects waiting for the next flush. */
  get size(): number {
    return this.#batch.size
  }

  /** The write error that ended the flushing, if one did. */
  get failure(): { readonly error: unknown } | undefined {
    return this.#failure
  }

  add(event: WatchEvent): void {
    this.#batch.add(event)
  }

  /** An event whose object the edge refused (lib/kube/served-object.ts): dead-lettered by the next flush. */
  refuse(refused: RefusedObject): void {
    this.#refused.push(refused)
  }

  /** Flushes every FLUSH_INTERVAL_MS while anything (an event or a bookmark) waits, until close(). */
  start(): void {
    this.#timer ??= setInterval(() => {
      if (this.#batch.lastResourceVersion !== undefined || this.#refused.length > 0)
        void this.flush()
    }, FLUSH_INTERVAL_MS)
  }

  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Queues a flush of what waits now; resolves when it (and every flush before it) is done. */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#flushBatch())
    return this.#chain
  }

  async #flushBatch(): Promise<void> {
    if (this.#failure) return
    const { ops, observed, events, resourceVersion, oldestEventAt } = this.#batch.take()
    const refused = this.#refused
    this.#refused = []
    const progress = this.#progress
    try {
      // Stored before the checkpoint moves past them (docs/design.md#invariant-5-checkpoints-after-writes).
      if (refused.length > 0)
        progress.deadLettered += await this.#store.recordRefused(refused, 'watch')
      if (resourceVersion === undefined) return
      // Every version of the batch, in order, before the coalesced inventory write and the
      // checkpoint: a crash in between loses no version the next window replays.
      const known = await this.#recordHistory(observed, progress)
      if (ops.length > 0) {
        // An event the server refuses comes back as a dead letter, not as an error, and
        // the checkpoint below moves past it. The invariant holds: its write was answered
        // (refused for good, retrying it here cannot help) and its dead letter is stored
        // before the write returns, so nothing is lost, only deferred: the next reconcile
        // lists the object, finds it not stored at that version, and writes it again.
        // Blocking the checkpoint instead would stall every later event of the resource.
        await countedWrite(this.#store.write(ops, this.#signal, 'watch', known), (counts) =>
          addWriteCounts(progress, counts),
        )
        if (oldestEventAt !== undefined)
          progress.eventLagMaxMs = Math.max(progress.eventLagMaxMs, Date.now() - oldestEventAt)
      }
      // Under HISTORY_RESOURCES, the window's history so far, for GET /health.
      const history: Record<string, number> = this.#store.recordHistory
        ? {
            historyWritten: progress.historyWritten,
            historyIncomplete: progress.historyIncomplete,
          }
        : {}
      await this.#store.saveWatchCheckpoint(resourceVersion, { events, ...history })
      progress.resourceVersion = resourceVersion
    } catch (error) {
      // Failed after every retry: recorded as dead letters where MongoDB allowed, and
      // the checkpoint stays put, so the next window replays these events anyway.
      this.#failure = { error }
      this.#stop.abort(error)
    }
  }

  /**
   * The batch's versions in object_history (resources under HISTORY_RESOURCES), returning the
   * stored versions it read for the inventory write (WriteTarget.primed). Not beside the
   * inventory write, though that would hide the history insert (the one round trip history
   * adds to a flush): the inventory write stores each uid's last version with
   * `historyResourceVersion`, the claim that it is in object_history. Were that write
   * acknowledged and the insert not, a replay would diff its first version against that later
   * one (incomplete, a wrong patch), and a window that cannot replay (410: relist) would find
   * the inventory current and record nothing: a version the inventory holds, lost from history
   * for good (docs/design.md#invariant-5-checkpoints-after-writes: a failed history insert moves
   * neither the inventory nor the checkpoint).
   */
  async #recordHistory(
    observed: ReturnType<EventBatch['take']>['observed'],
    progress: FlushProgress,
  ): Promise<ReadonlyMap<string, string | null> | undefined> {
    if (!observed || observed.length === 0 || !this.#store.recordHistory) return undefined
    const recorded = await this.#store.recordHistory(
      observed.map(({ event, receivedAt }) => ({
        type: historyTypeOf(event),
        object: event.object,
        observedAt: new Date(receivedAt),
      })),
      'watch',
      this.#signal,
    )
    progress.historyWritten += recorded.written
    progress.historyIncomplete += recorded.incomplete
    return recorded.read
  }
}

/** A watch event as a history version (bookmarks never reach history: they carry no object). */
function historyTypeOf(event: WatchEvent): 'ADDED' | 'MODIFIED' | 'DELETED' {
  return event.type === 'BOOKMARK' ? 'MODIFIED' : event.type
}
