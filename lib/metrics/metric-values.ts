import type { ReconcileReport } from '../sync/reconcile-resource.js'
import type { ReportHistoryCounts, ReportWriteCounts } from '../sync/resource-report.js'
import type { WatchReport } from '../sync/watch-resource.js'

/*
 * What each report becomes in CloudWatch, as plain data (so it is tested
 * without stdout). The names are a contract: serverless.yml's alarms and
 * dashboard, and users' own alarms, refer to them.
 */

export type MetricUnitName = 'Count' | 'Milliseconds' | 'Seconds'

export interface MetricValue {
  readonly name: string
  readonly unit: MetricUnitName
  readonly value: number
}

const count = (name: string, value: number): MetricValue => ({ name, unit: 'Count', value })
const ms = (name: string, value: number): MetricValue => ({ name, unit: 'Milliseconds', value })

/** Whole seconds since `iso` (never negative), or undefined when unknown. */
function ageSeconds(iso: string | null | undefined, now: Date): number | undefined {
  if (!iso) return undefined
  return Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000))
}

function completeSyncAge(report: { lastCompleteSyncAt?: string | null }, now: Date): MetricValue[] {
  const age = ageSeconds(report.lastCompleteSyncAt, now)
  return age === undefined ? [] : [{ name: 'CompleteSyncAgeSeconds', unit: 'Seconds', value: age }]
}

/** What reconcile and watch both write (their reports share these fields). */
function writeValues(report: ReportWriteCounts & ReportHistoryCounts): MetricValue[] {
  return [
    count('ObjectsInserted', report.inserted),
    count('ObjectsUpdated', report.updated),
    count('ObjectsDeleted', report.deleted),
    count('ChunkRetries', report.chunkRetries),
    count('ChunkFailures', report.chunkFailures),
    count('PacingSlowdowns', report.pacingSlowdowns),
    count('DeadLetters', report.deadLettered),
    ...historyValues(report),
  ]
}

/**
 * Object history (lib/store/history/), only when a version was recorded: a
 * resource not under HISTORY_RESOURCES publishes (and costs) no more metrics
 * than before, and a missing datapoint sums as 0.
 */
function historyValues(report: ReportHistoryCounts): MetricValue[] {
  if (report.historyWritten === 0) return []
  return [
    count('HistoryVersionsWritten', report.historyWritten),
    count('HistoryVersionsIncomplete', report.historyIncomplete),
  ]
}

/** Dimensions cluster and resource. A skipped resource did nothing: it has no metrics. */
export function reconcileMetricValues(report: ReconcileReport, now: Date): MetricValue[] {
  if (report.status === 'skipped') return []
  return [
    count('ObjectsListed', report.listed),
    count('ObjectsUnchanged', report.unchanged),
    count('PagesListed', report.pages),
    ...writeValues(report),
    // A held resource did not complete: it counts as a sync failure too.
    count('SyncFailures', report.status === 'complete' ? 0 : 1),
    count('DeletesHeld', report.deletesHeld),
    count('ResourceVersionResets', report.resourceVersionsReset ? 1 : 0),
    ms('SyncDurationMs', report.durationMs),
    ...completeSyncAge(report, now),
  ]
}

export function watchMetricValues(report: WatchReport, now: Date): MetricValue[] {
  if (report.status === 'skipped') return []
  return [
    count('WatchEvents', report.events),
    count('WatchReconnects', report.reconnects),
    count('Relists', report.relists),
    ...writeValues(report),
    count('WatchFailures', report.status === 'complete' ? 0 : 1),
    ...(report.events > 0 ? [ms('EventLagMs', report.eventLagMaxMs)] : []),
    ms('WatchDurationMs', report.durationMs),
    ...completeSyncAge(report, now),
  ]
}

/**
 * Dimension cluster only: what the alarms watch. The oldest complete sync
 * covers the resources whose last complete sync is known; the ones that
 * never completed are counted apart, since they have no age to take a
 * maximum of.
 */
export function clusterMetricValues(
  reports: ReadonlyArray<{ readonly lastCompleteSyncAt?: string | null; readonly status: string }>,
  breakerOpens: number,
  now: Date,
): MetricValue[] {
  const known = reports.filter((r) => r.lastCompleteSyncAt !== undefined)
  const ages = known
    .map((r) => ageSeconds(r.lastCompleteSyncAt, now))
    .filter((a): a is number => a !== undefined)
  return [
    count('BreakerOpens', breakerOpens),
    count('ResourcesNeverSynced', known.length - ages.length),
    ...(ages.length > 0
      ? [
          {
            name: 'OldestCompleteSyncAgeSeconds',
            unit: 'Seconds',
            value: Math.max(...ages),
          } as const,
        ]
      : []),
  ]
}
