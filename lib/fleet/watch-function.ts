import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { newWatchReport } from '../sync/watch-resource.js'
import { runWatch, type WatchOutput } from '../sync/watch-run.js'
import { runInline } from './inline-run.js'
import { planWatch } from './plan.js'
import { plans, sendPlan, type PlanOutput } from './send-plan.js'
import { recordFleet } from './record-fleet.js'
import { selectClusters } from './registry.js'

export interface WatchFunctionInput {
  readonly resources?: readonly string[]
  readonly windowSeconds?: number
  readonly clusters?: readonly string[]
  readonly inline?: boolean
}

export type WatchFunctionOutput = WatchOutput | PlanOutput

/** The output of a run (not a plan): the one with per-resource metrics. */
export function isWatchRun(output: WatchFunctionOutput): output is WatchOutput {
  return 'resources' in output
}

/**
 * The watch function's work: plan one task per group of clusters
 * (WATCH_CLUSTERS_PER_WORKER), or run the windows here for a one-cluster
 * deployment (or `inline`).
 */
export async function watchFunction(
  runtime: SyncRuntime,
  input: WatchFunctionInput,
): Promise<WatchFunctionOutput> {
  const started = Date.now()
  const fleet = await runtime.loadFleet()
  const clusters = selectClusters(fleet, input.clusters)
  await recordFleet(runtime, fleet)
  const { config } = runtime
  if (plans(config, fleet, input.inline)) {
    const tasks = planWatch(clusters, input, config.fleet.watchClustersPerWorker, new Date())
    return sendPlan(runtime, { kind: 'watch', tasks, clusters, fleet, started })
  }
  const { clusters: _c, inline: _i, ...run } = input
  return runInline({
    name: 'watch',
    // Every window at once: a window is mostly waiting, and all must end by the same time.
    concurrency: clusters.length,
    clusters,
    resources: input.resources,
    forCluster: runtime.forCluster,
    run: (deps) => runWatch(deps, run),
    emptyReport: newWatchReport,
    outputFields: {},
  })
}
