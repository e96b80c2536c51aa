/**
 * Lambda entry point: replays one bounded watch window per resource from the
 * saved checkpoint, every minute; a fleet's schedule plans groups of clusters
 * onto the watch queue instead (docs/fleets.md). Input `{}` or
 * `{"resources": [...], "windowSeconds": N, "clusters": [...], "inline": true}`.
 */
import { isWatchRun, watchFunction } from '../lib/fleet/watch-function.js'
import { publishRunMetrics } from '../lib/metrics/emf.js'
import { watchInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseInput, watchInput } from '../lib/runtime/invocation-input.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncRuntime } from '../lib/runtime/sync-dependencies.js'

export const handler = createLambdaHandler({
  name: 'watch',
  parse: (event) => parseInput(watchInput, event, 'watch'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncRuntime,
  work: (input, runtime) => watchFunction(runtime, input),
  publishMetrics: (output, { config, container }) =>
    publishRunMetrics(
      output && isWatchRun(output) ? watchInvocationMetrics(output) : undefined,
      config.clusterName,
      container,
    ),
})
