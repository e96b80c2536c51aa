import { DeadlineError, messageOf } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { errorFields, logger } from '../log.js'
import { ChunkedWriteError } from '../store/writes/bulk-writer.js'
import type { WriteCounts, WriteOp } from '../store/writes/write-op.js'
import { addCounts } from '../store/writes/write-op.js'
import { emptyCounts } from '../store/writes/write-op.js'
import { deletesAfterCompleteList, diffPage } from './page-diff.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResourceStore } from '../store/resource-store.js'
import { readAhead } from './read-ahead.js'

/**
 * List pages read while the version index is still loading: enough to overlap
 * the two where the index is quick (a snapshot on FerretDB, a covered
 * projection on MongoDB: a few pages' time), few enough that memory stays a
 * few pages (DESIGN invariant 6).
 */
export const PAGES_AHEAD_OF_INDEX = 4

export type ResourceStatus = 'complete' | 'partial' | 'failed' | 'skipped'

/** One resource's line of the reconcile report (DESIGN.md invocation contract). */
export interface ReconcileReport {
  resource: string
  status: ResourceStatus
  listed: number
  inserted: number
  updated: number
  deleted: number
  unchanged: number
  /** Objects stored in sync_dead_letters instead of the inventory (retried by the next reconcile). */
  deadLettered: number
  pages: number
  /** Chunk writes retried, failed for good, and adaptive-pacing slowdowns (metrics). */
  chunkRetries: number
  chunkFailures: number
  pacingSlowdowns: number
  durationMs: number
  listResourceVersion?: string
  /** When the resource last completed a full list (ISO), as far as this run knows; null = never. */
  lastCompleteSyncAt?: string | null
  error?: string
}

/** A report with every count at zero (a resource not started, skipped or failed early). */
export function newReconcileReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): ReconcileReport {
  return {
    resource,
    status,
    listed: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    deadLettered: 0,
    pages: 0,
    chunkRetries: 0,
    chunkFailures: 0,
    pacingSlowdowns: 0,
    durationMs: 0,
    ...(error === undefined ? {} : { error }),
  }
}

export interface ReconcileResourceOptions {
  readonly resolved: ResolvedResource
  readonly source: ClusterSource
  readonly store: ResourceStore
  readonly signal: AbortSignal
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
  /** Time left before the deadline, to decide whether a restarted list can still finish. */
  readonly remainingMs: () => number
}

/**
 * One list pass of one resource: pages stream through the diff into the
 * writer, the next page is fetched while the current one is written, and only
 * a complete, consistent pass deletes and saves the checkpoint.
 * The caller holds the lease.
 */
export async function reconcileResource(
  options: ReconcileResourceOptions,
): Promise<ReconcileReport> {
  const { resolved, source, store, signal } = options
  const started = Date.now()
  const report = newReconcileReport(resolved.ref.id, 'partial')
  const log = { resource: resolved.ref.id }
  const written: WriteCounts = emptyCounts()
  let diffUnchanged = 0
  let pendingWrite: Promise<void> | undefined

  // Written documents count through the writer (a guard may skip some); a dry
  // run counts what the diff would write.
  const write = (ops: WriteOp[]): Promise<void> => {
    if (options.dryRun || ops.length === 0) return Promise.resolve()
    return store.write(ops, signal).then(
      (counts) => addCounts(written, counts),
      (error: unknown) => {
        // What a failed write did before failing still happened (and feeds the metrics).
        if (error instanceof ChunkedWriteError) addCounts(written, error.counts)
        throw error
      },
    )
  }
  const planned = { inserts: 0, updates: 0, deletes: 0 }

  try {
    if (!options.dryRun) await store.ensureIndexes()
    // The index loads while the first pages are listed; each diff waits for it.
    const loading = store.loadVersions(options.namespaces)
    loading.catch(() => undefined) // surfaced by the await in the loop or after it
    // Read alongside, for the report's lastCompleteSyncAt only (metrics): never fails the pass.
    const lastComplete = store.getState().then(
      (state) => state?.lastFullSyncAt?.toISOString() ?? null,
      () => undefined,
    )
    let stored: Map<string, string> | undefined
    let seen = new Set<string>()
    let listResourceVersion = ''
    let consistent = true
    // A restart after a 410 is worth it only while a full list still fits.
    const startedListing = Date.now()
    const allowInconsistentContinue = () => {
      const elapsed = Date.now() - startedListing
      return options.remainingMs() < elapsed * 2
    }

    const pages = source.listPages(resolved, {
      namespaces: options.namespaces,
      signal,
      allowInconsistentContinue,
    })
    for await (const page of readAhead(pages, loading, PAGES_AHEAD_OF_INDEX)) {
      stored ??= await loading
      if (page.restarted) {
        // Pages already written stay written (each was a true state of its
        // objects); only the "seen" set, which decides deletes, starts over.
        seen = new Set()
        report.listed = 0
        logger.info('list restarted after 410', {
          event: 'reconcile.list-restarted',
          ...log,
          page: page.page,
        })
      }
      consistent &&= page.consistent
      listResourceVersion = page.listResourceVersion
      report.pages++
      report.listed += page.items.length
      const diff = diffPage(page.items, stored, seen)
      // What this pass writes counts as stored: if a 410 restarts the list and
      // the new pass no longer serves an object written here, it is deleted.
      for (const op of diff.ops)
        if (op.type !== 'delete')
          stored.set(op.object.metadata.uid, op.object.metadata.resourceVersion)
      diffUnchanged += diff.unchanged
      planned.inserts += diff.inserts
      planned.updates += diff.updates
      // One write in flight while the next page is fetched: list and write overlap.
      if (pendingWrite) await pendingWrite
      pendingWrite = write(diff.ops)
      pendingWrite.catch(() => undefined) // surfaced by the await above or below
      logger.info(
        `${resolved.kind} page ${page.page}: ${page.items.length} listed, ${diff.ops.length} to write`,
        {
          event: 'reconcile.page',
          ...log,
          page: page.page,
          items: page.items.length,
          writes: diff.ops.length,
          listed: report.listed,
        },
      )
    }
    if (pendingWrite) await pendingWrite
    pendingWrite = undefined
    stored ??= await loading
    const before = await lastComplete
    if (before !== undefined) report.lastCompleteSyncAt = before

    if (!consistent) {
      report.error =
        'list followed an inconsistent continue token after 410: no deletes on this pass'
      logger.warn(report.error, { event: 'reconcile.inconsistent', ...log })
      if (!options.dryRun) await store.markNeedsRelist('inconsistent list after 410')
    } else {
      const deletes = deletesAfterCompleteList(stored, seen, listResourceVersion)
      planned.deletes = deletes.length
      await write(deletes)
      // Dead letters of objects this complete list no longer serves are moot.
      if (!options.dryRun) await store.pruneDeadLetters(seen, options.namespaces)
      // A list of some namespaces says nothing of the others: it may not move
      // the resource's checkpoint, nor retire tombstones elsewhere.
      if (!options.dryRun && !options.namespaces) {
        // Every planned write landed as planned (no guard stepped in): the
        // index now is what the collection holds, worth keeping for next time.
        if (written.skippedByGuard === 0) {
          for (const op of deletes) if (op.type === 'delete') stored.delete(op.uid)
          await store.saveVersions(stored)
        }
        await store.pruneTombstones(listResourceVersion)
        // The checkpoint comes last: every write it covers is acknowledged (invariant 5).
        // A rejected operation counts as acknowledged once its dead letter is stored; the
        // next reconcile lists the object again and writes it again.
        await store.saveListCheckpoint(listResourceVersion, {
          listed: report.listed,
          inserted: written.inserted,
          updated: written.updated,
          deleted: written.deleted,
          unchanged: diffUnchanged + written.skippedByGuard,
          deadLettered: written.deadLettered,
          pages: report.pages,
        })
        report.listResourceVersion = listResourceVersion
        report.lastCompleteSyncAt = new Date().toISOString()
      }
      report.status = 'complete'
    }
  } catch (error) {
    if (pendingWrite) await pendingWrite.catch(() => undefined)
    const deadline = error instanceof DeadlineError || signal.aborted
    report.status = deadline ? 'partial' : 'failed'
    report.error = deadline
      ? `deadline reached: ${messageOf(error)}; nothing deleted`
      : messageOf(error)
    logger.error(`reconcile of ${resolved.ref.id} ${report.status}`, {
      event: 'reconcile.failed',
      ...log,
      status: report.status,
      ...errorFields(error),
    })
    if (!options.dryRun) await store.recordError(report.error).catch(() => undefined)
  }

  if (options.dryRun) {
    report.inserted = planned.inserts
    report.updated = planned.updates
    report.deleted = report.status === 'complete' ? planned.deletes : 0
    report.unchanged = diffUnchanged
  } else {
    report.inserted = written.inserted
    report.updated = written.updated
    report.deleted = written.deleted
    report.unchanged = diffUnchanged + written.skippedByGuard
    report.deadLettered = written.deadLettered
  }
  report.chunkRetries = written.retriedChunks
  report.chunkFailures = written.failedChunks
  report.pacingSlowdowns = written.pacingSlowdowns
  report.durationMs = Date.now() - started

  return report
}
