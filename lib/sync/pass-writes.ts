import type { RefusedObject } from '../kube/types.js'
import type { ResourceStore } from '../store/resource-store.js'
import { addCounts, emptyCounts, type WriteCounts, type WriteOp } from '../store/writes/write-op.js'
import {
  emptyHistoryCounts,
  type HistoryChange,
  type HistoryCounts,
} from '../store/history/history-writer.js'
import { countedWrite } from './counted-write.js'

/**
 * The writes of one list pass. Documents count through the writer (a guard
 * may skip some, a failed write still did what it did before failing), and
 * one write stays in flight while the next page is listed. A dry run writes
 * nothing: its report counts what the diff planned instead.
 */
export class PassWrites {
  readonly written: WriteCounts = emptyCounts()
  /** Versions this pass recorded in object_history (a resource under HISTORY_RESOURCES only). */
  readonly history: HistoryCounts = emptyHistoryCounts()
  readonly #store: ResourceStore
  readonly #signal: AbortSignal
  readonly #dryRun: boolean
  #inFlight: Promise<void> | undefined

  constructor(store: ResourceStore, signal: AbortSignal, dryRun = false) {
    this.#store = store
    this.#signal = signal
    this.#dryRun = dryRun
  }

  /**
   * Writes `ops` and waits for the write. Under history, each change is
   * recorded first (complete: false: what a list finds changed, no watch
   * recorded), so the inventory never holds a version history lacks.
   */
  async write(ops: WriteOp[]): Promise<void> {
    if (this.#dryRun || ops.length === 0) return
    let known: ReadonlyMap<string, string | null> | undefined
    if (this.#store.recordHistory) {
      const recorded = await this.#store.recordHistory(
        ops.map(historyChangeOf),
        'reconcile',
        this.#signal,
      )
      this.history.written += recorded.written
      this.history.incomplete += recorded.incomplete
      known = recorded.read
    }
    await countedWrite(this.#store.write(ops, this.#signal, 'reconcile', known), (counts) =>
      addCounts(this.written, counts),
    )
  }

  /**
   * Dead-letters the objects the Kubernetes edge refused (they count as dead
   * letters), before anything that depends on the pass (the checkpoint) runs.
   * A dry run stores nothing.
   */
  async refuse(refused: readonly RefusedObject[]): Promise<void> {
    if (this.#dryRun || refused.length === 0) return
    this.written.deadLettered += await this.#store.recordRefused(refused, 'reconcile')
  }

  /** Waits for the write in flight, then starts this one and returns: list and write overlap. */
  async overlap(ops: WriteOp[]): Promise<void> {
    await this.drain()
    const writing = this.write(ops)
    writing.catch(() => undefined) // surfaced by the next drain()
    this.#inFlight = writing
  }

  /** Waits for the write in flight, if any; its error is thrown here. */
  async drain(): Promise<void> {
    const writing = this.#inFlight
    this.#inFlight = undefined
    await writing
  }

  /** After a failure: lets the write in flight end, whatever its outcome, before the report is made. */
  async settle(): Promise<void> {
    await this.drain().catch(() => undefined)
  }
}

/** A list pass's write as a history version: an insert is new (nothing stored to read), a delete is known by uid. */
function historyChangeOf(op: WriteOp): HistoryChange {
  if (op.type === 'delete')
    return { type: 'DELETED', uid: op.uid, resourceVersion: op.deletedAtResourceVersion }
  if (op.type === 'insert') return { type: 'ADDED', object: op.object, unstored: true }
  return { type: 'MODIFIED', object: op.object }
}
