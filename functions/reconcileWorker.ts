/**
 * Lambda entry point: the reconcile work queue's consumer (SQS event source,
 * batch size 1, ReportBatchItemFailures). Each record is one (cluster,
 * resource) task planned by the reconcile function (docs/fleets.md#workers).
 */
import { reconcileWorker } from '../lib/fleet/reconcile-worker.js'
import { publishTaskMetrics } from '../lib/fleet/worker-metrics.js'
import { reconcileInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseSqsEvent } from '../lib/runtime/sqs-event.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncRuntime } from '../lib/runtime/sync-dependencies.js'
import type { ReconcileOutput } from '../lib/sync/reconcile-run.js'

export const handler = createLambdaHandler({
  name: 'reconcileWorker',
  parse: (event) => parseSqsEvent(event, 'reconcileWorker'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncRuntime,
  work: (event, runtime) =>
    reconcileWorker(
      runtime,
      event,
      publishTaskMetrics(runtime, 'reconcile', (output) =>
        reconcileInvocationMetrics(output as ReconcileOutput),
      ),
    ),
})
