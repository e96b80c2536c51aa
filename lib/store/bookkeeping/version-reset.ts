import type { Collection, Db } from 'mongodb'
import type { InventoryDocument } from '../documents/mapper.js'
import { areComparable, isNewer } from '../documents/resource-version.js'
import { tombstonesOf } from './tombstones.js'

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

/** `$in` lists are sent in slices of this size to stay far below the 16 MB command limit. */
const PRUNE_SLICE = 1000

/**
 * Removes the resource's tombstones at versions above `listResourceVersion`:
 * deletes of the lost timeline, which would otherwise keep a restored object
 * out of the inventory. Tombstones at or below it are left to the ordinary
 * prune after the complete list (tombstones.ts pruneTombstones). Opaque
 * versions cannot be ordered and are left too. Returns how many were removed.
 */
export async function pruneTombstonesAbove(
  db: Db,
  cluster: string,
  resourceId: string,
  listResourceVersion: string,
): Promise<number> {
  const tombstones = tombstonesOf(db)
  const above: string[] = []
  const cursor = tombstones.find(
    { cluster, resource: resourceId },
    { projection: { _id: 1, resourceVersion: 1 } },
  )
  for await (const t of cursor) {
    if (areComparable(t.resourceVersion, listResourceVersion))
      if (isNewer(t.resourceVersion, listResourceVersion)) above.push(t._id)
  }
  let removed = 0
  for (let i = 0; i < above.length; i += PRUNE_SLICE) {
    const result = await tombstones.deleteMany({ _id: { $in: above.slice(i, i + PRUNE_SLICE) } })
    removed += result.deletedCount
  }
  return removed
}
