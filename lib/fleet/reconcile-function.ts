import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { newReconcileReport } from '../sync/reconcile-resource.js'
import { runReconcile, type ReconcileOutput } from '../sync/reconcile-run.js'
import { forgetFromRegistry, type ForgetOutput } from './forget.js'
import { runInline } from './inline-run.js'
import { planReconcile } from './plan.js'
import { plans, sendPlan, type PlanOutput } from './send-plan.js'
import { recordFleet } from './record-fleet.js'
import { selectClusters } from './registry.js'

/** What a person (or the schedule) may ask of the reconcile function. */
export interface ReconcileFunctionInput {
  readonly resources?: readonly string[]
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
  readonly confirmDeletes?: boolean
  readonly clusters?: readonly string[]
  readonly inline?: boolean
  readonly forget?: string
}

export type ReconcileFunctionOutput = ReconcileOutput | PlanOutput | ForgetOutput

/** The output of a run (not a plan or a forget): the one with per-resource metrics. */
export function isReconcileRun(output: ReconcileFunctionOutput): output is ReconcileOutput {
  return 'dryRun' in output
}

/** The reconcile function's work: forget, plan, or run inline. */
export async function reconcileFunction(
  runtime: SyncRuntime,
  input: ReconcileFunctionInput,
): Promise<ReconcileFunctionOutput> {
  if (input.forget !== undefined) return forgetFromRegistry(runtime, input.forget)
  const started = Date.now()
  const fleet = await runtime.loadFleet()
  const clusters = selectClusters(fleet, input.clusters)
  await recordFleet(runtime, fleet)
  const { config } = runtime
  if (plans(config, fleet, input.inline)) {
    const tasks = planReconcile(clusters, input, new Date())
    return sendPlan(runtime, { kind: 'reconcile', tasks, clusters, fleet, started })
  }
  const { clusters: _c, inline: _i, ...run } = input
  return runInline({
    name: 'reconcile',
    // Each cluster already works two resources at once, each with its chunks in flight.
    concurrency: 4,
    clusters,
    resources: input.resources,
    forCluster: runtime.forCluster,
    run: (deps, cluster) =>
      runReconcile(deps, {
        ...run,
        ...((run.namespaces ?? cluster.namespaces)
          ? { namespaces: run.namespaces ?? cluster.namespaces }
          : {}),
      }),
    emptyReport: newReconcileReport,
    outputFields: { dryRun: Boolean(input.dryRun) },
  })
}
