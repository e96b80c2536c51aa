/**
 * Lambda entry point: scheduled or manual reconcile. Input `{}` (cron) or
 * `{"resources": [...], "namespaces": [...], "dryRun": true}`.
 */
import { reconcileInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { parseInput, reconcileInput } from '../lib/runtime/invocation-input.js'
import { runReconcile } from '../lib/sync/reconcile-run.js'

export const handler = createLambdaHandler(
  'reconcile',
  (event) => parseInput(reconcileInput, event, 'reconcile'),
  (input, { config, deps, deadline, owner }) =>
    runReconcile({ config, source: deps.source, storeFor: deps.storeFor, deadline, owner }, input),
  { metricsOf: reconcileInvocationMetrics },
)
