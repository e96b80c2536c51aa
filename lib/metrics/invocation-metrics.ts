import type { ReconcileOutput } from '../sync/reconcile-run.js'
import type { WatchOutput } from '../sync/watch-run.js'
import type { InvocationMetrics } from './emf.js'
import { reconcileMetricValues, watchMetricValues } from './metric-values.js'

/** The metrics of one reconcile invocation, per resource; a dry run wrote nothing and has none. */
export function reconcileInvocationMetrics(
  output: ReconcileOutput,
  now = new Date(),
): InvocationMetrics {
  if (output.dryRun) return { resources: [] }
  return {
    resources: output.resources.map((report) => ({
      resource: report.resource,
      status: report.status,
      ...(report.lastCompleteSyncAt === undefined
        ? {}
        : { lastCompleteSyncAt: report.lastCompleteSyncAt }),
      values: reconcileMetricValues(report, now),
    })),
  }
}

/** The metrics of one watch invocation, per resource. */
export function watchInvocationMetrics(output: WatchOutput, now = new Date()): InvocationMetrics {
  return {
    resources: output.resources.map((report) => ({
      resource: report.resource,
      status: report.status,
      ...(report.lastCompleteSyncAt === undefined
        ? {}
        : { lastCompleteSyncAt: report.lastCompleteSyncAt }),
      values: watchMetricValues(report, now),
    })),
  }
}
