import type { Collection, Db } from 'mongodb'
import type { InventoryDocument } from '../documents/mapper.js'
import { areComparable, isNewer } from '../documents/resource-version.js'
import { pruneTombstonesWhere } from './tombstones.js'

/*
 * After an etcd restore (or any server whose resourceVersions went back), the
 * stored versions and tombstones come from a timeline the cluster no longer
 * has: compared with what it serves now, they look newer than everything, so
 * the write path's "never regress" and "no resurrection" guards would refuse
 * every true write (docs/design.md#restored-clusters). Forgetting them turns
 * the next complete list into a rewrite in full, through the ordinary,
 * guarded write path:
 *
 *  - every stored document of the scope gets UNKNOWN_VERSION, which every
 *    served version is newer than, so the list replaces it (compare-and-swap
 *    on UNKNOWN_VERSION) or, if the list does not serve it, deletes it;
 *  - tombstones above the new list's version are pruned, so an object the
 *    lost timeline deleted, and the restore brought back, is inserted again.
 *
 * Each step is one statement, safe to run again whatever part of it was
 * applied (no transactions: FerretDB 1.x has none, and its `update` stops at
 * the first failing statement, so nothing here relies on a statement
 * failing). The caller holds the lease, so no other writer sees the
 * forgotten versions, and marks the reset in sync_state before and after
 * (resource-store.ts), so a reset cut short is made again by the next
 * reconcile, and a rewrite cut short is only continued.
 */

/**
 * A stored version every served version counts as newer than (decimal or
 * opaque, lib/store/documents/resource-version.ts), and that no delete at a
 * decimal version is refused for (slow-path.ts mayDelete).
 */
export const UNKNOWN_VERSION = '0'

/** Sets every stored version of one cluster's documents (or of these namespaces) to UNKNOWN_VERSION. */
export async function forgetStoredVersions(
  collection: Collection<InventoryDocument>,
  cluster: string,
  namespaces?: readonly string[],
): Promise<number> {
  // One multi-document update on the cluster's documents: the scope's scan
  // costs about what loading its version index does, once per restore.
  const filter =
    namespaces === undefined ? { cluster } : { cluster, namespace: { $in: [...namespaces] } }
  const result = await collection.updateMany(filter, {
    $set: { resourceVersion: UNKNOWN_VERSION },
  })
  return result.modifiedCount
}

/**
 * Removes the resource's tombstones at versions above `listResourceVersion`:
 * deletes of the lost timeline, which would otherwise keep a restored object
 * out of the inventory. Tombstones at or below it are left to the ordinary
 * prune after the complete list (tombstones.ts pruneTombstones). Opaque
 * versions cannot be ordered and are left too. Returns how many were removed.
 */
export function pruneTombstonesAbove(
  db: Db,
  cluster: string,
  resourceId: string,
  listResourceVersion: string,
): Promise<number> {
  return pruneTombstonesWhere(
    db,
    cluster,
    resourceId,
    ({ resourceVersion: rv }) =>
      areComparable(rv, listResourceVersion) && isNewer(rv, listResourceVersion),
  )
}
