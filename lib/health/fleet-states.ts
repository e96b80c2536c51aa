import type { Db } from 'mongodb'
import { parseResourceRef, stateIdOf } from '../resource-ref.js'
import { readFleetRegistry } from '../store/bookkeeping/fleet-registry.js'
import { stateCollectionOf } from '../store/bookkeeping/sync-state.js'
import type { FleetStates, ManagedCluster } from './fleet.js'
import type { StateFields } from './freshness.js'

/*
 * What GET /health reads, all of it bookkeeping and never an inventory
 * collection: the registry by `_id`, the managed clusters' sync_state by
 * `_id`, and (with a registry) the `_id`s of all of sync_state, which holds
 * one small document per (cluster, resource): its cost follows the fleet's
 * size, never the objects synced (docs/design.md#bookkeeping-collections).
 */

/** `_id`s per `$in`: far below the 16 MB command limit at any fleet size. */
const IDS_PER_QUERY = 1000

/** The fields of sync_state the check reads: no lease; of the counts, only history's. */
const STATE_PROJECTION = {
  lastFullSyncAt: 1,
  lastWatchAt: 1,
  needsRelist: 1,
  relistReason: 1,
  lastError: 1,
  'lastListCounts.historyWritten': 1,
  'lastListCounts.historyIncomplete': 1,
  'lastWatchCounts.historyWritten': 1,
  'lastWatchCounts.historyIncomplete': 1,
} as const

/**
 * The sync_state of each managed (cluster, resource), by `_id`. A resource id
 * that does not parse has no state document it could name (never-synced).
 */
async function readManagedStates(
  db: Db,
  managed: readonly ManagedCluster[],
): Promise<Map<string, Map<string, StateFields>>> {
  const owners = new Map<string, { cluster: string; resource: string }>()
  for (const cluster of managed)
    for (const resource of cluster.resources) {
      const ref = parseResourceRef(resource)
      if (ref) owners.set(stateIdOf(cluster.name, ref), { cluster: cluster.name, resource })
    }
  const ids = [...owners.keys()]
  const states = new Map<string, Map<string, StateFields>>()
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const docs = await stateCollectionOf(db)
      .find({ _id: { $in: ids.slice(i, i + IDS_PER_QUERY) } }, { projection: STATE_PROJECTION })
      .toArray()
    for (const doc of docs) {
      const owner = owners.get(doc._id)
      if (!owner) continue
      const mine = states.get(owner.cluster) ?? new Map<string, StateFields>()
      mine.set(owner.resource, doc)
      states.set(owner.cluster, mine)
    }
  }
  return states
}

/**
 * Clusters with any sync_state document that `managed` does not name, sorted.
 * One find over sync_state projecting `_id` alone: it holds one document per
 * (cluster, resource), so this reads the fleet's bookkeeping, not its
 * inventory. The cluster is taken from the `_id` (`<cluster>/<group>/...`)
 * rather than the `cluster` field, which a document a lease created may lack.
 */
async function clustersBesides(db: Db, managed: ReadonlySet<string>): Promise<string[]> {
  const others = new Set<string>()
  const cursor = stateCollectionOf(db).find({}, { projection: { _id: 1 } })
  for await (const { _id } of cursor) {
    const slash = _id.indexOf('/')
    const cluster = slash > 0 ? _id.slice(0, slash) : undefined
    if (cluster !== undefined && !managed.has(cluster)) others.add(cluster)
  }
  return [...others].sort()
}

/**
 * The fleet as the health check sees it. Managed: the registry's clusters
 * when a plan wrote it, else `configured` (CLUSTER_NAME and SYNC_RESOURCES,
 * exactly as a single-cluster deployment always had). Unmanaged clusters are
 * looked for only under a registry: without one, another deployment's cluster
 * sharing the database is not this deployment's business.
 */
export async function readFleetStates(db: Db, configured: ManagedCluster): Promise<FleetStates> {
  const registry = await readFleetRegistry(db)
  const managed = registry?.clusters ?? [configured]
  const states = await readManagedStates(db, managed)
  const unmanaged = registry ? await clustersBesides(db, new Set(managed.map((c) => c.name))) : []
  return { registry: registry?.clusters, states, unmanaged }
}
