import type { FleetCluster } from './registry.js'
import { TASK_VERSION, taskClusterOf, type ReconcileTaskBody, type WatchTaskBody } from './tasks.js'

/*
 * Planning: the scheduled functions turn the fleet into tasks, one reconcile
 * task per (cluster, resource) (each is its own unit of work, with its own
 * lease: docs/design.md#invariant-8-fleets) and one watch task per group of
 * clusters (a watch window is mostly waiting, so one worker runs a group's
 * windows at once). Pure: sending is send-tasks.ts's.
 */

export interface ReconcilePlanInput {
  readonly resources?: readonly string[]
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
  readonly confirmDeletes?: boolean
}

/** The resources of `cluster` a run works: those asked for (when asked), else the cluster's own. */
export function resourcesOf(cluster: FleetCluster, asked: readonly string[] | undefined): string[] {
  const own = cluster.resources.map((r) => r.id)
  return asked ? [...asked] : own
}

/**
 * One task per (cluster, resource), interleaved across clusters: workers take
 * tasks in about the order they were sent, so one cluster's resources spread
 * over time instead of landing on its API server all at once.
 */
export function planReconcile(
  clusters: readonly FleetCluster[],
  input: ReconcilePlanInput,
  plannedAt: Date,
): ReconcileTaskBody[] {
  const at = plannedAt.toISOString()
  const perCluster = clusters.map((cluster) => {
    const taskCluster = taskClusterOf(cluster) as ReconcileTaskBody['cluster']
    return resourcesOf(cluster, input.resources).map((resource): ReconcileTaskBody => ({
      v: TASK_VERSION,
      kind: 'reconcile',
      cluster: taskCluster,
      resource,
      plannedAt: at,
      ...(input.namespaces ? { namespaces: [...input.namespaces] } : {}),
      ...(input.dryRun ? { dryRun: true } : {}),
      ...(input.confirmDeletes ? { confirmDeletes: true } : {}),
    }))
  })
  const tasks: ReconcileTaskBody[] = []
  const rounds = Math.max(0, ...perCluster.map((t) => t.length))
  for (let round = 0; round < rounds; round++) {
    for (const own of perCluster) if (round < own.length) tasks.push(own[round]!)
  }
  return tasks
}

export function planWatch(
  clusters: readonly FleetCluster[],
  input: { readonly resources?: readonly string[]; readonly windowSeconds?: number },
  groupSize: number,
  plannedAt: Date,
): WatchTaskBody[] {
  const at = plannedAt.toISOString()
  const tasks: WatchTaskBody[] = []
  for (let i = 0; i < clusters.length; i += groupSize) {
    tasks.push({
      v: TASK_VERSION,
      kind: 'watch',
      clusters: clusters
        .slice(i, i + groupSize)
        .map((c) => taskClusterOf(c) as WatchTaskBody['clusters'][number]),
      plannedAt: at,
      ...(input.resources ? { resources: [...input.resources] } : {}),
      ...(input.windowSeconds ? { windowSeconds: input.windowSeconds } : {}),
    })
  }
  return tasks
}
