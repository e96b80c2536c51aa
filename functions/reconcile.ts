/**
 * Lambda entry point: scheduled or manual reconcile. Input `{}` (cron) or
 * `{"resources": [...], "namespaces": [...], "dryRun": true}`.
 */
import { publishInvocationMetrics } from '../lib/metrics/emf.js'
import { reconcileInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseInput, reconcileInput } from '../lib/runtime/invocation-input.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncDependencies } from '../lib/runtime/sync-dependencies.js'
import { runReconcile } from '../lib/sync/reconcile-run.js'

export const handler = createLambdaHandler({
  name: 'reconcile',
  parse: (event) => parseInput(reconcileInput, event, 'reconcile'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncDependencies,
  work: (input, deps) => runReconcile(deps, input),
  publishMetrics: (output, { config, container }) =>
    publishInvocationMetrics(
      output && reconcileInvocationMetrics(output),
      config.clusterName,
      container.breakers,
    ),
})
