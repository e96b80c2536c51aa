import type { Collection } from 'mongodb'
import type { Tombstone } from '../../bookkeeping/tombstones.js'
import type { InventoryDocument, MappingContext } from '../../documents/mapper.js'

/** Where one resource's writes go, and how its objects become documents. */
export interface WriteTarget {
  readonly collection: Collection<InventoryDocument>
  readonly tombstones: Collection<Tombstone>
  readonly mapping: MappingContext
  /** ResourceRef id (`v1/pods`), recorded on tombstones. */
  readonly resourceId: string
  readonly now: () => Date
  /** See ServerProfile: whether the resourceVersion guard goes into the write's filter. */
  readonly atomicConditionalWrites: boolean
  /** See ServerProfile: look ids up one by one rather than with `$in`. */
  readonly readByIdOnly: boolean
  /**
   * Stored versions the caller read by `_id` moments before this write, under
   * the same lease (the batch's history read; null: not stored). Each is used
   * once, by the first read of its id, instead of reading it again: where
   * only `_id` look-ups are cheap a second read per event doubled a watch
   * flush. A later read of the id (the slow path) goes to the server. The
   * lease makes the early read as good as a fresh one: no other invocation
   * writes the resource meanwhile, and the compare-and-swap still guards.
   */
  readonly primed?: Map<string, string | null>
}

/**
 * The filter of a write that must only apply while `resourceVersion` is still
 * stored: a compare-and-swap where the server makes it atomic, the bare `_id`
 * (after the read that decided the write) where it does not.
 */
export function guardOf(target: WriteTarget, _id: string, resourceVersion: string) {
  return target.atomicConditionalWrites ? { _id, resourceVersion } : { _id }
}

/** At most this many single-id look-ups in flight per chunk (the pool is MONGO_POOL_MAX, shared by chunks). */
const LOOKUP_CONCURRENCY = 4

/**
 * Finds the documents with these `_id`s (projected), with one `$in` query or,
 * where only a bare `_id` filter uses the index, one look-up per id.
 */
export async function findByIds<T extends { _id: string }>(
  readByIdOnly: boolean,
  ids: readonly string[],
  findMany: (ids: string[]) => Promise<T[]>,
  findOne: (id: string) => Promise<T | null>,
): Promise<T[]> {
  if (ids.length === 0) return []
  if (!readByIdOnly) return findMany([...ids])
  const found: T[] = []
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const doc = await findOne(ids[next++]!)
      if (doc) found.push(doc)
    }
  }
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, ids.length) }, worker))
  return found
}

/** The stored version of each of these `_id`s that is stored (projected: `_id` and version only). */
export async function storedVersions(
  target: WriteTarget,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const projection = { _id: 1, resourceVersion: 1 } as const
  const { primed } = target
  const known = new Map<string, string>()
  const toRead: string[] = []
  for (const id of ids) {
    if (!primed?.has(id)) {
      toRead.push(id)
      continue
    }
    const version = primed.get(id)
    primed.delete(id)
    if (version !== null && version !== undefined) known.set(id, version)
  }
  const found = await findByIds(
    target.readByIdOnly,
    toRead,
    (many) => target.collection.find({ _id: { $in: many } }, { projection }).toArray(),
    (one) => target.collection.findOne({ _id: one }, { projection }),
  )
  for (const d of found) known.set(d._id, d.resourceVersion)
  return known
}
