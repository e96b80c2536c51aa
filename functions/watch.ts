/**
 * Lambda entry point: replays one bounded watch window per resource from the
 * saved checkpoint, every minute. Input `{}` or `{"resources": [...], "windowSeconds": N}`.
 */
import { watchInvocationMetrics } from '../lib/metrics/invocation-metrics.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'
import { parseInput, watchInput } from '../lib/runtime/invocation-input.js'
import { runWatch } from '../lib/sync/watch-run.js'

export const handler = createLambdaHandler(
  'watch',
  (event) => parseInput(watchInput, event, 'watch'),
  (input, { config, deps, deadline, owner }) =>
    runWatch({ config, source: deps.source, storeFor: deps.storeFor, deadline, owner }, input),
  { metricsOf: watchInvocationMetrics },
)
