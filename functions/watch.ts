/**
 * Lambda entry point: replays one bounded watch window per resource from the
 * saved checkpoint, every minute. Input `{}` or `{"resources": [...], "windowSeconds": N}`.
 */
import { publishInvocationMetrics } from '../lib/metrics/emf.js'
import { watchInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { parseInput, watchInput } from '../lib/runtime/invocation-input.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { createSyncDependencies } from '../lib/runtime/sync-dependencies.js'
import { runWatch } from '../lib/sync/watch-run.js'

export const handler = createLambdaHandler({
  name: 'watch',
  parse: (event) => parseInput(watchInput, event, 'watch'),
  secrets: ['mongodb', 'kubeconfig', 'hashKey'],
  dependencies: createSyncDependencies,
  work: (input, deps) => runWatch(deps, input),
  publishMetrics: (output, { config, container }) =>
    publishInvocationMetrics(
      output && watchInvocationMetrics(output),
      config.clusterName,
      container.breakers,
    ),
})
