import type { Collection } from 'mongodb'
import { uidOfDocumentId } from '../documents/mapper.js'
import type { InventoryDocument } from '../documents/mapper.js'

export interface VersionIndexScope {
  readonly cluster: string
  /** Limit to these namespaces (a namespaced reconcile); undefined = all. */
  readonly namespaces?: readonly string[]
}

/**
 * Documents per cursor batch: large enough to keep round trips few (100k
 * objects = 20 batches), small enough that one batch of `{_id, rv}` pairs is
 * well under a megabyte.
 */
const CURSOR_BATCH_SIZE = 5000

/**
 * uid -> stored resourceVersion for one (cluster, resource), streamed with a
 * projection: the server sends only `_id` and `resourceVersion`, so 100k
 * objects cost a few megabytes (two short strings each), never their bodies.
 */
export async function loadVersionIndex(
  collection: Collection<InventoryDocument>,
  scope: VersionIndexScope,
): Promise<Map<string, string>> {
  const filter =
    scope.namespaces === undefined
      ? { cluster: scope.cluster }
      : { cluster: scope.cluster, namespace: { $in: [...scope.namespaces] } }
  const cursor = collection
    .find(filter, { projection: { _id: 1, resourceVersion: 1 } })
    .batchSize(CURSOR_BATCH_SIZE)
  const index = new Map<string, string>()
  for await (const doc of cursor)
    index.set(uidOfDocumentId(scope.cluster, doc._id), doc.resourceVersion)
  return index
}
