/**
 * One object's versions, by name (what `npm run history -- --name` asks). Every
 * filter is the equality prefix of the contract's index
 * {cluster, resource, namespace, name, observedAt: -1} with a range on
 * observedAt, so MongoDB reads only the object's own index entries. The name may
 * have had several uids (deleted and created again): the timeline shows them all.
 */
import type { Db, Filter } from 'mongodb'
import { HISTORY_COLLECTION, type HistoryVersion, type ObjectKey } from './types.js'
import { compareObserved, latestOf } from './version-order.js'

/** A version without its object and patch (a cheap read). */
export type VersionSummary = Omit<HistoryVersion, 'object' | 'patch'>

type TimeRange = { $gte?: Date; $lte?: Date; $lt?: Date; $gt?: Date }

/** The filter, keys in index order (cluster, resource, namespace, name, observedAt). */
export function objectFilter(key: ObjectKey, observedAt?: TimeRange): Filter<HistoryVersion> {
  return {
    cluster: key.cluster,
    resource: key.resource,
    namespace: key.namespace ?? null,
    name: key.name,
    ...(observedAt ? { observedAt } : {}),
  }
}

const history = (db: Db) => db.collection<HistoryVersion>(HISTORY_COLLECTION)

/**
 * Every version observed at or after `since` (all when absent), oldest first.
 * `withObjects: false` leaves each full object on the server (a timeline without
 * --diff needs only the patches); `object` is then `{}`.
 */
export async function objectVersions(
  db: Db,
  key: ObjectKey,
  since?: Date,
  { withObjects = true }: { withObjects?: boolean } = {},
): Promise<HistoryVersion[]> {
  const found = await history(db)
    .find(objectFilter(key, since ? { $gte: since } : undefined), {
      projection: withObjects ? {} : { object: 0 },
    })
    .sort({ observedAt: 1 })
    .toArray()
  const versions = withObjects ? found : found.map((v) => ({ ...v, object: {} }))
  return versions.sort(compareObserved)
}

/**
 * The versions observed at the latest (or earliest) time within `range`: one
 * watch batch may share an observedAt, so the ties are read and ordered by
 * resourceVersion here. Two small reads, each on the index.
 */
async function versionsAtEdge<T extends VersionSummary>(
  db: Db,
  key: ObjectKey,
  range: TimeRange,
  direction: 1 | -1,
  projection: Record<string, 0 | 1>,
): Promise<T[]> {
  const edge = await history(db)
    .find(objectFilter(key, range), { projection: { _id: 0, observedAt: 1 } })
    .sort({ observedAt: direction })
    .limit(1)
    .next()
  if (!edge) return []
  const exactly = { $gte: edge.observedAt, $lte: edge.observedAt }
  return history(db).find<T>(objectFilter(key, exactly), { projection }).toArray()
}

/** The latest version observed at or before `at` (a DELETED one included), or undefined. */
export async function versionAsOf(
  db: Db,
  key: ObjectKey,
  at: Date,
): Promise<HistoryVersion | undefined> {
  return latestOf(await versionsAtEdge<HistoryVersion>(db, key, { $lte: at }, -1, {}))
}

/** The earliest version observed after `at`: tells whether the answer as of `at` may miss changes. */
export async function nextVersionAfter(
  db: Db,
  key: ObjectKey,
  at: Date,
): Promise<VersionSummary | undefined> {
  const ties = await versionsAtEdge(db, key, { $gt: at }, 1, { object: 0, patch: 0 })
  return ties.sort(compareObserved)[0]
}

/** The latest version observed before `at`: the base a timeline's first patch applies to. */
export async function versionBefore(
  db: Db,
  key: ObjectKey,
  at: Date,
): Promise<HistoryVersion | undefined> {
  return versionAsOf(db, key, new Date(at.getTime() - 1))
}

/** The first and last observedAt recorded for the name (for "nothing recorded" messages). */
export async function recordedSpan(
  db: Db,
  key: ObjectKey,
): Promise<{ first: Date; last: Date } | undefined> {
  const edge = (direction: 1 | -1) =>
    history(db)
      .find(objectFilter(key), { projection: { _id: 0, observedAt: 1 } })
      .sort({ observedAt: direction })
      .limit(1)
      .next()
  const [first, last] = await Promise.all([edge(1), edge(-1)])
  return first && last ? { first: first.observedAt, last: last.observedAt } : undefined
}

/** Whether anything at all is recorded for the resource in the cluster (an index prefix: one entry read). */
export async function resourceRecorded(
  db: Db,
  cluster: string,
  resource: string,
): Promise<boolean> {
  const found = await history(db).findOne({ cluster, resource }, { projection: { _id: 1 } })
  return found !== null
}
