import { InvalidInputError } from '../runtime/invocation-input.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { serverProfileOf } from '../store/connection/server-profile.js'
import { forgetCluster, type ForgetResult } from '../store/bookkeeping/forget-cluster.js'
import { recordFleet } from './record-fleet.js'

export interface ForgetOutput extends ForgetResult {
  readonly ok: true
  readonly durationMs: number
}

/**
 * `{"forget": "<cluster>"}` (docs/fleets.md#forgetting-a-cluster): deletes one
 * cluster's documents and state. Refused while the registry still lists the
 * cluster, since its next plan would sync it all back; a cluster merely
 * removed from the registry is left untouched until someone asks this.
 */
export async function forgetFromRegistry(
  runtime: SyncRuntime,
  cluster: string,
): Promise<ForgetOutput> {
  const started = Date.now()
  const fleet = await runtime.loadFleet()
  if (fleet.clusters.some((c) => c.name === cluster)) {
    const where = fleet.registry
      ? 'the registry (CLUSTERS, CLUSTERS_SECRET_ID or EKS discovery)'
      : 'CLUSTER_NAME'
    throw new InvalidInputError(
      `cannot forget cluster "${cluster}": it is still in ${where}; remove it there first`,
    )
  }
  // The registry as it is now, without the cluster, before anything goes: a task of the cluster
  // still queued is then dropped by its worker (worker.ts) instead of writing the cluster back.
  await recordFleet(runtime, fleet, { required: true })
  const { db, mongoGuard, invocation } = runtime
  const profile = await mongoGuard(() => serverProfileOf(db))
  const result = await forgetCluster(db, cluster, {
    profile,
    owner: invocation.owner,
    leaseTtlMs: runtime.config.lease.ttlMs,
  })
  return { ok: true, durationMs: Date.now() - started, ...result }
}
