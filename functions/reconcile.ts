/**
 * Lambda entry point: scheduled or manual reconcile. Input `{}` (cron: run, or
 * plan a fleet onto the work queue), or `{"resources": [...], "namespaces":
 * [...], "dryRun": true, "clusters": [...], "inline": true}`, or
 * `{"forget": "<cluster>"}` (docs/fleets.md).
 */
import { isReconcileRun, reconcileFunction } from '../lib/fleet/reconcile-function.js'
import { publishRunMetrics } from '../lib/metrics/emf.js'
import { reconcileInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseInput, reconcileInput } from '../lib/runtime/invocation-input.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncRuntime } from '../lib/runtime/sync-dependencies.js'

export const handler = createLambdaHandler({
  name: 'reconcile',
  parse: (event) => parseInput(reconcileInput, event, 'reconcile'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncRuntime,
  work: (input, runtime) => reconcileFunction(runtime, input),
  publishMetrics: (output, { config, container }) =>
    publishRunMetrics(
      output && isReconcileRun(output) ? reconcileInvocationMetrics(output) : undefined,
      config.clusterName,
      container,
    ),
})
