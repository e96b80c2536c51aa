import type { Collection, Db } from 'mongodb'
import { isDuplicateKeyError, writeErrorsOf } from '../connection/driver-errors.js'
import { areComparable, isNewer } from '../documents/resource-version.js'

/**
 * A tombstone says "this uid is gone, as of this resourceVersion". Kubernetes
 * never reuses a uid, so once a delete is known, any later write for that uid
 * carries a stale view (a list page read before the delete) and must not
 * re-create the document (docs/design.md#invariant-3-no-regression-no-resurrection).
 */
export interface Tombstone {
  _id: string
  cluster: string
  /** ResourceRef id, `v1/pods`. */
  resource: string
  uid: string
  resourceVersion: string
  deletedAt: Date
}

export const TOMBSTONE_COLLECTION = 'sync_tombstones'

/**
 * Indexes besides `_id` (docs/design.md#indexes): the prune after a complete
 * list reads one (cluster, resource). The TTL index on `deletedAt` is
 * expiry.ts's.
 */
export const tombstoneIndexes = [
  { key: { cluster: 1, resource: 1 }, name: 'cluster_resource' },
] as const

export function tombstonesOf(db: Db): Collection<Tombstone> {
  return db.collection<Tombstone>(TOMBSTONE_COLLECTION)
}

/*
 * Tombstone look-ups always use one `$in`, even where that scans the collection
 * (FerretDB): pruneTombstones keeps it small, so one scan beats a look-up per id.
 */
function findTombstonesByIds(
  tombstones: Collection<Tombstone>,
  ids: readonly string[],
): Promise<Array<Pick<Tombstone, '_id' | 'resourceVersion'>>> {
  if (ids.length === 0) return Promise.resolve([])
  return tombstones
    .find({ _id: { $in: [...ids] } }, { projection: { _id: 1, resourceVersion: 1 } })
    .toArray()
}

/** The `_id`s among `ids` that have a tombstone. */
export async function findTombstoned(
  tombstones: Collection<Tombstone>,
  ids: readonly string[],
): Promise<Set<string>> {
  return new Set((await findTombstonesByIds(tombstones, ids)).map((t) => t._id))
}

/**
 * Writes tombstones, keeping the highest resourceVersion per uid. New ones go
 * in one unordered insert (duplicates mean another writer got there first,
 * which is fine); an existing older one is raised with a compare-and-swap.
 * Every step is idempotent, so a retried chunk may run this again.
 */
export async function writeTombstones(
  tombstones: Collection<Tombstone>,
  entries: readonly Tombstone[],
): Promise<void> {
  if (entries.length === 0) return
  const existing = new Map(
    (
      await findTombstonesByIds(
        tombstones,
        entries.map((e) => e._id),
      )
    ).map((t) => [t._id, t.resourceVersion]),
  )
  const fresh = entries.filter((e) => !existing.has(e._id))
  if (fresh.length > 0) {
    try {
      await tombstones.insertMany(fresh, { ordered: false })
    } catch (error) {
      // Duplicates only: another writer stored the same tombstone first, which is all we wanted.
      const writeErrors = writeErrorsOf(error) ?? []
      if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKeyError)) throw error
    }
  }
  for (const entry of entries) {
    const stored = existing.get(entry._id)
    if (stored === undefined || !isNewer(entry.resourceVersion, stored)) continue
    // Losing this CAS means another writer changed it meanwhile: either way a tombstone exists, which is what matters.
    await tombstones.updateOne(
      { _id: entry._id, resourceVersion: stored },
      { $set: { resourceVersion: entry.resourceVersion, deletedAt: entry.deletedAt } },
    )
  }
}

/** `$in` lists are sent in slices of this size to stay far below the 16 MB command limit. */
const PRUNE_SLICE = 1000

/**
 * How much older than the list's start a tombstone of an opaque version must
 * be to count as seen by the list: clocks of different invocations disagree
 * by far less.
 */
export const CLOCK_MARGIN_MS = 60_000

/** A complete list: its resourceVersion and, when known, when it started listing. */
export interface CompleteList {
  readonly resourceVersion: string
  readonly startedAt?: Date
}

/**
 * Whether a complete list makes a tombstone moot: a stale page older than
 * the list can no longer arrive, and the list shows every live object. At or
 * below the list's version where both are decimal; otherwise (an opaque
 * version, which has no order) when the tombstone was written before the
 * list started, so the delete it records happened before the list read, or
 * when the versions are equal.
 */
export function supersededBy(
  tombstone: Pick<Tombstone, 'resourceVersion' | 'deletedAt'>,
  list: CompleteList,
): boolean {
  const rv = tombstone.resourceVersion
  if (areComparable(rv, list.resourceVersion)) return !isNewer(rv, list.resourceVersion)
  if (rv === list.resourceVersion) return true
  return (
    list.startedAt !== undefined &&
    tombstone.deletedAt instanceof Date &&
    tombstone.deletedAt.getTime() < list.startedAt.getTime() - CLOCK_MARGIN_MS
  )
}

/**
 * A complete list retires the resource's tombstones it makes moot
 * (supersededBy). Compared in JS, since the store would compare the strings
 * lexicographically. Returns how many were removed.
 */
export function pruneTombstones(
  db: Db,
  cluster: string,
  resourceId: string,
  list: CompleteList,
): Promise<number> {
  return pruneTombstonesWhere(db, cluster, resourceId, (t) => supersededBy(t, list))
}

/**
 * Removes the resource's tombstones that `prune` accepts, deciding in JS (the
 * store would compare version strings lexicographically). The filter is the
 * `cluster_resource` index on MongoDB; on a server without cheap non-`_id`
 * filters (server-profile.ts) it reads the whole collection, which the prune
 * itself and the expiry (expiry.ts) keep to recent deletes. Returns how many
 * were removed.
 */
export async function pruneTombstonesWhere(
  db: Db,
  cluster: string,
  resourceId: string,
  prune: (tombstone: Pick<Tombstone, 'resourceVersion' | 'deletedAt'>) => boolean,
): Promise<number> {
  const tombstones = tombstonesOf(db)
  const chosen: string[] = []
  const cursor = tombstones.find(
    { cluster, resource: resourceId },
    { projection: { _id: 1, resourceVersion: 1, deletedAt: 1 } },
  )
  for await (const t of cursor) if (prune(t)) chosen.push(t._id)
  let removed = 0
  for (let i = 0; i < chosen.length; i += PRUNE_SLICE) {
    const result = await tombstones.deleteMany({ _id: { $in: chosen.slice(i, i + PRUNE_SLICE) } })
    removed += result.deletedCount
  }
  return removed
}
