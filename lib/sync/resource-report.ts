import type { WriteCounts } from '../store/writes/write-op.js'

/*
 * What every resource's line of a reconcile or watch report has. The field
 * names are the public output contract (docs/design.md#invocation-contract)
 * and the metrics read them (lib/metrics/metric-values.ts), so they stay as
 * they are even where the writer counts under other names.
 */

/**
 * `held` (reconcile only): the list completed, but its deletes would remove
 * more than MASS_DELETE_MAX_FRACTION of the stored documents, so none was
 * applied and the checkpoint did not move (lib/sync/mass-delete-guard.ts).
 */
export type ResourceStatus = 'complete' | 'partial' | 'failed' | 'skipped' | 'held'

/** What reconcile and watch both report of their writes. */
export interface ReportWriteCounts {
  inserted: number
  updated: number
  deleted: number
  /** Objects stored in sync_dead_letters instead of the inventory (retried by the next reconcile). */
  deadLettered: number
  /** Chunk writes retried, failed for good, and adaptive-pacing slowdowns (metrics). */
  chunkRetries: number
  chunkFailures: number
  pacingSlowdowns: number
}

/** Object history (lib/store/history/): versions recorded, and how many of them may have gaps before. */
export interface ReportHistoryCounts {
  /** Versions inserted in object_history (0 for a resource not under HISTORY_RESOURCES). */
  historyWritten: number
  /** Of those, the ones recorded with `complete: false`. */
  historyIncomplete: number
}

/** The fields every resource's report has, whichever function made it. */
export interface ResourceReport extends ReportWriteCounts, ReportHistoryCounts {
  /** The cluster it belongs to: every report line names it (a fleet's report mixes clusters). */
  cluster?: string
  resource: string
  status: ResourceStatus
  durationMs: number
  /** When the resource last completed a full list (ISO), as far as this run knows; null = never. */
  lastCompleteSyncAt?: string | null
  error?: string
}

/** A report's common fields with every count at zero (a resource not started, skipped or failed early). */
export function newResourceReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): ResourceReport {
  return {
    resource,
    status,
    ...emptyReportWriteCounts(),
    historyWritten: 0,
    historyIncomplete: 0,
    durationMs: 0,
    ...(error === undefined ? {} : { error }),
  }
}

/** The one mapping from the writer's counts to the report's: each report field, and its source. */
const FROM_WRITE_COUNTS = {
  inserted: 'inserted',
  updated: 'updated',
  deleted: 'deleted',
  deadLettered: 'deadLettered',
  chunkRetries: 'retriedChunks',
  chunkFailures: 'failedChunks',
  pacingSlowdowns: 'pacingSlowdowns',
} as const satisfies Record<keyof ReportWriteCounts, keyof WriteCounts>

const REPORT_WRITE_FIELDS = Object.keys(FROM_WRITE_COUNTS) as Array<keyof ReportWriteCounts>

export function emptyReportWriteCounts(): ReportWriteCounts {
  return {
    inserted: 0,
    updated: 0,
    deleted: 0,
    deadLettered: 0,
    chunkRetries: 0,
    chunkFailures: 0,
    pacingSlowdowns: 0,
  }
}

/** Adds what a write did (or what a failed write did before failing) to a report. */
export function addWriteCounts(report: ReportWriteCounts, counts: Readonly<WriteCounts>): void {
  for (const field of REPORT_WRITE_FIELDS) report[field] += counts[FROM_WRITE_COUNTS[field]]
}

/** Adds one report's writes to another's (a watch's relist reports through the watch). */
export function addReportWriteCounts(
  into: ReportWriteCounts,
  from: Readonly<ReportWriteCounts>,
): void {
  for (const field of REPORT_WRITE_FIELDS) into[field] += from[field]
}
