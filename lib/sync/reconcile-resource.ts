import { DeadlineError, messageOf } from '../errors.js'
import { errorFields, logger } from '../log.js'
import { emptyCounts, type WriteCounts } from '../store/writes/write-op.js'
import { finishCompleteList } from './complete-list.js'
import { listPass, newPassTally, type ListPassOptions, type PassTally } from './list-pass.js'
import { PassWrites } from './pass-writes.js'
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
  listResourceVersion?: string
}

/** A report with every count at zero (a resource not started, skipped or failed early). */
export function newReconcileReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): ReconcileReport {
  return { ...newResourceReport(resource, status, error), listed: 0, unchanged: 0, pages: 0 }
}

export interface ReconcileResourceOptions extends ListPassOptions {
  readonly dryRun?: boolean
}

/**
 * One list pass of one resource: pages stream through the diff into the
 * writer (list-pass.ts), and only a complete, consistent pass deletes and
 * saves the checkpoint (complete-list.ts). The caller holds the lease.
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
    // Read alongside, for the report's lastCompleteSyncAt only (metrics): never fails the pass.
    const lastComplete = store.getState().then(
      (state) => state?.lastFullSyncAt?.toISOString() ?? null,
      () => undefined,
    )
    const pass = await listPass(options, writes, tally)
    const before = await lastComplete
    if (before !== undefined) report.lastCompleteSyncAt = before
    if (!pass.consistent) {
      report.error =
        'list followed an inconsistent continue token after 410: no deletes on this pass'
      logger.warn(report.error, { event: 'reconcile.inconsistent', resource: resolved.ref.id })
      if (!options.dryRun) await store.markNeedsRelist('inconsistent list after 410')
    } else {
      if (await finishCompleteList(options, pass, writes, tally)) {
        report.listResourceVersion = pass.listResourceVersion
        report.lastCompleteSyncAt = new Date().toISOString()
      }
      report.status = 'complete'
    }
  } catch (error) {
    await writes.settle()
    await recordFailure(options, report, error)
  }
  fillCounts(report, tally, options.dryRun ? planned(tally) : writes.written)
  report.durationMs = Date.now() - started
  return report
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
