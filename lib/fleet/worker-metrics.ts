import { publishRunMetrics, publishTaskOutcome } from '../metrics/emf.js'
import type { InvocationMetrics } from '../metrics/emf.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import type { TaskOutcome } from './worker.js'

/** Each task's metrics as it ends: its outcome, and its run's per-cluster, per-resource figures. */
export function publishTaskMetrics(
  runtime: SyncRuntime,
  queue: string,
  metricsOf: (
    output: NonNullable<Extract<TaskOutcome, { output?: unknown }>['output']>,
  ) => InvocationMetrics,
): (outcome: TaskOutcome) => void {
  return (outcome) => {
    publishTaskOutcome(queue, outcome.outcome)
    if (outcome.outcome === 'dropped' || !outcome.output) return
    publishRunMetrics(
      metricsOf(outcome.output),
      runtime.config.clusterName,
      runtime.invocation.container,
    )
  }
}
