import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { newWatchReport } from '../sync/watch-resource.js'
import { runWatch } from '../sync/watch-run.js'
import { runInline } from './inline-run.js'
import { fleetClusterOfTask, parseWatchTask, type WatchTaskBody } from './tasks.js'
import { workRecords, type TaskOutcome } from './worker.js'

/**
 * One watch task: the windows of a group of clusters, all at once (a window
 * is mostly waiting). A window that failed is in the output and the metrics
 * but does not fail the task: the next minute's plan is its retry, and a
 * retried window would only be dropped as stale. Only a malformed task fails
 * (and is kept by the dead-letter queue).
 */
export function watchWorker(
  runtime: SyncRuntime,
  event: SQSEvent,
  onOutcome?: (outcome: TaskOutcome) => void,
): Promise<SQSBatchResponse> {
  const { fleet, resources } = runtime.config
  return workRecords<WatchTaskBody>(runtime, event, {
    name: 'watch',
    queueUrl: fleet.watchQueueUrl,
    maxAgeSeconds: fleet.watchTaskMaxAgeSeconds,
    retryDelaySeconds: fleet.workerRetryDelaySeconds,
    parse: parseWatchTask,
    summary: (task) => ({ clusters: task.clusters.map((c) => c.name) }),
    clustersOf: (task) => task.clusters.map((c) => c.name),
    ...(onOutcome ? { onOutcome } : {}),
    run: async (task) => {
      const clusters = task.clusters.map((c) => fleetClusterOfTask(c, resources))
      const output = await runInline({
        name: 'watch',
        concurrency: clusters.length,
        clusters,
        resources: task.resources,
        forCluster: runtime.forCluster,
        run: (deps) =>
          runWatch(deps, {
            manual: false,
            ...(task.resources ? { resources: task.resources } : {}),
            ...(task.windowSeconds ? { windowSeconds: task.windowSeconds } : {}),
          }),
        emptyReport: newWatchReport,
        outputFields: {},
      })
      return { outcome: 'done', output }
    },
  })
}
