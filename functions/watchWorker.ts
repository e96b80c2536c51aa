/**
 * Lambda entry point: the watch work queue's consumer (SQS event source,
 * batch size 1, ReportBatchItemFailures). Each record is a group of clusters
 * whose watch windows run at once (docs/fleets.md#workers).
 */
import { publishTaskMetrics } from '../lib/fleet/worker-metrics.js'
import { watchWorker } from '../lib/fleet/watch-worker.js'
import { watchInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseSqsEvent } from '../lib/runtime/sqs-event.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncRuntime } from '../lib/runtime/sync-dependencies.js'
import type { WatchOutput } from '../lib/sync/watch-run.js'

export const handler = createLambdaHandler({
  name: 'watchWorker',
  parse: (event) => parseSqsEvent(event, 'watchWorker'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncRuntime,
  work: (event, runtime) =>
    watchWorker(
      runtime,
      event,
      publishTaskMetrics(runtime, 'watch', (output) =>
        watchInvocationMetrics(output as WatchOutput),
      ),
    ),
})
