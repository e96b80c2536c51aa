import type { ReconcileOutput } from '../sync/reconcile-run.js'
import type { ResourceReport } from '../sync/resource-report.js'
import type { WatchOutput } from '../sync/watch-run.js'
import type { InvocationMetrics } from './emf.js'
import { reconcileMetricValues, watchMetricValues, type MetricValue } from './metric-values.js'

function perResource<R extends ResourceReport>(
  reports: readonly R[],
  values: (report: R) => MetricValue[],
): InvocationMetrics {
  return {
    resources: reports.map((report) => ({
      ...(report.cluster === undefined ? {} : { cluster: report.cluster }),
      resource: report.resource,
      status: report.status,
      ...(report.lastCompleteSyncAt === undefined
        ? {}
        : { lastCompleteSyncAt: report.lastCompleteSyncAt }),
      values: values(report),
    })),
  }
}

/** The metrics of one reconcile invocation, per resource; a dry run wrote nothing and has none. */
export function reconcileInvocationMetrics(
  output: ReconcileOutput,
  now = new Date(),
): InvocationMetrics {
  if (output.dryRun) return { resources: [] }
  return perResource(output.resources, (report) => reconcileMetricValues(report, now))
}

/** The metrics of one watch invocation, per resource. */
export function watchInvocationMetrics(output: WatchOutput, now = new Date()): InvocationMetrics {
  return perResource(output.resources, (report) => watchMetricValues(report, now))
}
