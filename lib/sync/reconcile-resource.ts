import { DeadlineError, messageOf } from '../errors.js'
import { errorFields, logger } from '../log.js'
import { emptyCounts, type WriteCounts } from '../store/writes/write-op.js'
import { finishCompleteList, type CompleteListOptions } from './complete-list.js'
import {
  listPass,
  newPassTally,
  type ListedPass,
  type ListPassOptions,
  type PassTally,
} from './list-pass.js'
import { describeHold } from './mass-delete-guard.js'
import { PassWrites } from './pass-writes.js'
import { resetIfVersionsWentBack } from './versions-went-back.js'
import {
  addWriteCounts,
  newResourceReport,
  type ResourceReport,
  type ResourceStatus,
} from './resource-report.js'

/** One resource's line of the reconcile report (docs/design.md#reconcile). */
export interface ReconcileReport extends ResourceReport {
  listed: number
  unchanged: number
  pages: number
  /** Deletes the mass-delete guard held back (status `held`); 0 otherwise. */
  deletesHeld: number
  /** The list went back below the checkpoint (a restore): the resource was rewritten from it. */
  resourceVersionsReset: boolean
  listResourceVersion?: string
}

/** A report with every count at zero (a resource not started, skipped or failed early). */
export function newReconcileReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): ReconcileReport {
  return {
    ...newResourceReport(resource, status, error),
    listed: 0,
    unchanged: 0,
    pages: 0,
    deletesHeld: 0,
    resourceVersionsReset: false,
  }
}

export interface ReconcileResourceOptions extends ListPassOptions, CompleteListOptions {
  readonly dryRun?: boolean
}

/**
 * One list pass of one resource: pages stream through the diff into the
 * writer (list-pass.ts), and only a complete, consistent pass deletes and
 * saves the checkpoint (complete-list.ts), unless the mass-delete guard holds
 * its deletes. A list below the saved checkpoint (a restore) first forgets
 * the stored versions (versions-went-back.ts). The caller holds the lease.
 */
export async function reconcileResource(
  options: ReconcileResourceOptions,
): Promise<ReconcileReport> {
  const { resolved, store } = options
  const started = Date.now()
  const report = newReconcileReport(resolved.ref.id, 'partial')
  const writes = new PassWrites(store, options.signal, options.dryRun)
  const tally = newPassTally()
  try {
    if (!options.dryRun) await store.ensureIndexes()
    // Read alongside the first page: the checkpoints its version is compared
    // with (unread, the pass fails: a restore must not go unseen), and the
    // report's lastCompleteSyncAt (metrics only).
    const state = store.getState()
    const lastComplete = state.then(
      (saved) => saved?.lastFullSyncAt?.toISOString() ?? null,
      () => undefined,
    )
    const pass = await listPass(options, writes, tally, async (listResourceVersion, stored) => {
      const reset = await resetIfVersionsWentBack(
        { ...options, resource: resolved.ref.id },
        await state,
        listResourceVersion,
        stored,
      )
      report.resourceVersionsReset = reset !== undefined
    })
    const before = await lastComplete
    if (before !== undefined) report.lastCompleteSyncAt = before
    await afterList(options, { pass, writes, tally, report })
  } catch (error) {
    await writes.settle()
    await recordFailure(options, report, error)
  }
  fillCounts(report, tally, options.dryRun ? planned(tally) : writes.written)
  report.historyWritten = writes.history.written
  report.historyIncomplete = writes.history.incomplete
  report.durationMs = Date.now() - started
  return report
}

/** What a pass that listed to its last page has, to finish with. */
interface ListedState {
  readonly pass: ListedPass
  readonly writes: PassWrites
  readonly tally: PassTally
  readonly report: ReconcileReport
}

/** An inconsistent list deletes nothing and asks for a relist; a consistent one finishes (complete-list.ts). */
async function afterList(options: ReconcileResourceOptions, listed: ListedState): Promise<void> {
  const { pass, writes, tally, report } = listed
  if (!pass.consistent) {
    report.error = 'list followed an inconsistent continue token after 410: no deletes on this pass'
    logger.warn(report.error, { event: 'reconcile.inconsistent', resource: report.resource })
    if (!options.dryRun) await options.store.markNeedsRelist('inconsistent list after 410')
    return
  }
  const outcome = await finishCompleteList(options, pass, writes, tally)
  if (outcome.checkpointSaved) {
    report.listResourceVersion = pass.listResourceVersion
    report.lastCompleteSyncAt = new Date().toISOString()
  }
  report.status = outcome.held ? 'held' : 'complete'
  if (outcome.held) {
    report.deletesHeld = outcome.held.wouldDelete
    report.error = describeHold(outcome.held)
  }
}

/** A pass that failed, or that the deadline stopped, deletes nothing; the resource's state says why. */
async function recordFailure(
  options: ReconcileResourceOptions,
  report: ReconcileReport,
  error: unknown,
): Promise<void> {
  const deadline = error instanceof DeadlineError || options.signal.aborted
  report.status = deadline ? 'partial' : 'failed'
  report.error = deadline
    ? `deadline reached: ${messageOf(error)}; nothing deleted`
    : messageOf(error)
  logger.error(`reconcile of ${options.resolved.ref.id} ${report.status}`, {
    event: 'reconcile.failed',
    resource: options.resolved.ref.id,
    status: report.status,
    ...errorFields(error),
  })
  if (!options.dryRun) await options.store.recordError(report.error).catch(() => undefined)
}

/** What a dry run would have written: the diff's plan, as if every write landed. */
function planned(tally: PassTally): WriteCounts {
  return {
    ...emptyCounts(),
    inserted: tally.inserts,
    updated: tally.updates,
    deleted: tally.deletes,
  }
}

function fillCounts(report: ReconcileReport, tally: PassTally, counts: WriteCounts): void {
  report.listed = tally.listed
  report.pages = tally.pages
  addWriteCounts(report, counts)
  // A write a guard skipped was already as new or newer: unchanged, as the diff's own.
  report.unchanged = tally.unchanged + counts.skippedByGuard
}
