import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { withLogFields } from '../log.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { runReconcile } from '../sync/reconcile-run.js'
import { fleetClusterOfTask, parseReconcileTask, type ReconcileTaskBody } from './tasks.js'
import { workRecords, type TaskOutcome } from './worker.js'

/**
 * One reconcile task: the same reconcile as the scheduled function's, for
 * one (cluster, resource), under its lease and this invocation's deadline.
 * A failed resource fails the task (it comes back, then goes to the
 * dead-letter queue); a lease held elsewhere (a duplicate delivery), a
 * deadline-partial run or a held delete is done: the next plan goes on.
 */
export function reconcileWorker(
  runtime: SyncRuntime,
  event: SQSEvent,
  onOutcome?: (outcome: TaskOutcome) => void,
): Promise<SQSBatchResponse> {
  const { fleet } = runtime.config
  return workRecords<ReconcileTaskBody>(runtime, event, {
    name: 'reconcile',
    queueUrl: fleet.reconcileQueueUrl,
    maxAgeSeconds: fleet.reconcileTaskMaxAgeSeconds,
    retryDelaySeconds: fleet.workerRetryDelaySeconds,
    parse: parseReconcileTask,
    summary: (task) => ({ cluster: task.cluster.name, resource: task.resource }),
    clustersOf: (task) => [task.cluster.name],
    ...(onOutcome ? { onOutcome } : {}),
    run: (task) => withLogFields({ cluster: task.cluster.name }, () => runTask(runtime, task)),
  })
}

async function runTask(runtime: SyncRuntime, task: ReconcileTaskBody): Promise<TaskOutcome> {
  const cluster = fleetClusterOfTask(task.cluster, runtime.config.resources)
  const deps = await runtime.forCluster(cluster)
  const namespaces = task.namespaces ?? cluster.namespaces
  const output = await runReconcile(deps, {
    resources: [task.resource],
    manual: false,
    ...(namespaces ? { namespaces } : {}),
    ...(task.dryRun ? { dryRun: true } : {}),
    ...(task.confirmDeletes ? { confirmDeletes: true } : {}),
  })
  const failed = output.resources.find((r) => r.status === 'failed')
  return failed
    ? {
        outcome: 'failed',
        error: `${cluster.name} ${failed.resource}: ${failed.error}`,
        output,
      }
    : { outcome: 'done', output }
}
