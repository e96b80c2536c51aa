import type { Db } from 'mongodb'
import { stateIdOf, type ResourceRef } from '../../resource-ref.js'
import { stateCollectionOf, type SyncState } from './sync-state.js'

/** What a reader of the sync state (the health check) may see: no lease, no counts. */
export type SyncStateSummary = Pick<
  SyncState,
  'resource' | 'lastFullSyncAt' | 'lastWatchAt' | 'needsRelist' | 'relistReason' | 'lastError'
>

/**
 * The `sync_state` documents of these resources of one cluster, in one query,
 * by resource id (`apps/v1/deployments`). A resource that never ran has none.
 */
export async function readSyncStates(
  db: Db,
  cluster: string,
  refs: readonly ResourceRef[],
): Promise<Map<string, SyncStateSummary>> {
  const idToResource = new Map(refs.map((ref) => [stateIdOf(cluster, ref), ref.id]))
  const docs = await stateCollectionOf(db)
    .find(
      { _id: { $in: [...idToResource.keys()] } },
      {
        projection: {
          lastFullSyncAt: 1,
          lastWatchAt: 1,
          needsRelist: 1,
          relistReason: 1,
          lastError: 1,
        },
      },
    )
    .toArray()
  const states = new Map<string, SyncStateSummary>()
  for (const doc of docs) {
    const resource = idToResource.get(doc._id)
    if (resource !== undefined) states.set(resource, { ...doc, resource })
  }
  return states
}
