import type { Collection } from 'mongodb'
import { documentIdOf, uidOfDocumentId } from '../documents/mapper.js'
import type { InventoryDocument } from '../documents/mapper.js'

export interface VersionIndexScope {
  readonly cluster: string
  /** Limit to these namespaces (a namespaced reconcile); undefined = all. */
  readonly namespaces?: readonly string[]
}

/** uid -> stored resourceVersion, and each uid's namespace (null: cluster-scoped). */
export interface StoredIndex {
  readonly versions: Map<string, string>
  readonly namespaces: Map<string, string | null>
}

/**
 * Documents per cursor batch: large enough to keep round trips few (100k
 * objects = 20 batches), small enough that one batch of `{_id, rv}` pairs is
 * well under a megabyte.
 */
const CURSOR_BATCH_SIZE = 5000

/**
 * uid -> stored resourceVersion for one (cluster, resource), streamed with a
 * projection: the server sends only `_id`, `resourceVersion` and `namespace`,
 * so 100k objects cost a few megabytes, never their bodies. The filter is a
 * prefix of the `cluster_namespace_name` index (docs/design.md#indexes), so on
 * MongoDB it reads only the scope's documents; a server that filters only
 * `_id` cheaply reads it from a snapshot instead (resource-versions.ts).
 */
export async function loadVersionIndex(
  collection: Collection<InventoryDocument>,
  scope: VersionIndexScope,
): Promise<StoredIndex> {
  const filter =
    scope.namespaces === undefined
      ? { cluster: scope.cluster }
      : { cluster: scope.cluster, namespace: { $in: [...scope.namespaces] } }
  const cursor = collection
    .find(filter, { projection: { _id: 1, resourceVersion: 1, namespace: 1 } })
    .batchSize(CURSOR_BATCH_SIZE)
  const versions = new Map<string, string>()
  const namespaces = new Map<string, string | null>()
  for await (const doc of cursor) {
    const uid = uidOfDocumentId(scope.cluster, doc._id)
    versions.set(uid, doc.resourceVersion)
    namespaces.set(uid, doc.namespace ?? null)
  }
  return { versions, namespaces }
}

/** Look-ups in flight at once: a few, beside the pool's other users. */
const LOOKUP_CONCURRENCY = 4

/**
 * The stored version and namespace of each of these uids that is stored, one
 * `{_id}` look-up each: the one filter every server answers from its `_id`
 * index, so the cost follows `uids.length` alone.
 */
export async function loadVersionsByUid(
  collection: Collection<InventoryDocument>,
  cluster: string,
  uids: readonly string[],
): Promise<StoredIndex> {
  const versions = new Map<string, string>()
  const namespaces = new Map<string, string | null>()
  let next = 0
  const worker = async () => {
    while (next < uids.length) {
      const uid = uids[next++]!
      const doc = await collection.findOne(
        { _id: documentIdOf(cluster, uid) },
        { projection: { _id: 1, resourceVersion: 1, namespace: 1 } },
      )
      if (!doc) continue
      versions.set(uid, doc.resourceVersion)
      namespaces.set(uid, doc.namespace ?? null)
    }
  }
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, uids.length) }, worker))
  return { versions, namespaces }
}

/** The part of an index in these namespaces (a uid of unknown namespace is left out). */
export function inNamespaces(index: StoredIndex, namespaces: readonly string[]): StoredIndex {
  const wanted = new Set(namespaces)
  const versions = new Map<string, string>()
  const kept = new Map<string, string | null>()
  for (const [uid, rv] of index.versions) {
    const ns = index.namespaces.get(uid)
    if (ns === undefined || ns === null || !wanted.has(ns)) continue
    versions.set(uid, rv)
    kept.set(uid, ns)
  }
  return { versions, namespaces: kept }
}

/**
 * Replaces the entries of `uids` in `index` with what a look-up `found`: a uid
 * found takes its stored version and namespace, a uid not found is not stored
 * (deleted since the snapshot, or an insert that never landed).
 */
export function amendIndex(index: StoredIndex, uids: Iterable<string>, found: StoredIndex): void {
  for (const uid of uids) {
    const rv = found.versions.get(uid)
    if (rv === undefined) {
      index.versions.delete(uid)
      index.namespaces.delete(uid)
    } else {
      index.versions.set(uid, rv)
      index.namespaces.set(uid, found.namespaces.get(uid) ?? null)
    }
  }
}
