import type { Collection, Db } from 'mongodb'
import { logger } from '../../log.js'
import { serverProfileOf } from '../connection/server-profile.js'
import { ensureIndexes, type NamedIndex } from '../documents/indexes.js'
import type { HistoryDocument } from './history-document.js'

/** One collection for every cluster and resource: each document names both. */
export const HISTORY_COLLECTION = 'object_history'

export function historyOf(db: Db): Collection<HistoryDocument> {
  return db.collection<HistoryDocument>(HISTORY_COLLECTION)
}

const DAY_SECONDS = 24 * 60 * 60
const TTL_INDEX = 'observedAt_ttl'

/**
 * The queries' indexes (docs/history.md): one object's timeline, one uid's,
 * a resource's changes since T; and, when retention is set, the TTL index.
 */
export function historyIndexes(retentionDays: number, ttlIndexes: boolean): NamedIndex[] {
  const indexes: NamedIndex[] = [
    {
      key: { cluster: 1, resource: 1, namespace: 1, name: 1, observedAt: -1 },
      name: 'cluster_resource_namespace_name_observedAt',
    },
    { key: { cluster: 1, uid: 1, observedAt: -1 }, name: 'cluster_uid_observedAt' },
    { key: { resource: 1, observedAt: -1 }, name: 'resource_observedAt' },
  ]
  if (ttlIndexes && retentionDays > 0)
    indexes.push({
      key: { observedAt: 1 },
      name: TTL_INDEX,
      expireAfterSeconds: retentionDays * DAY_SECONDS,
    })
  return indexes
}

/** Short of the reconcile's 15-minute schedule, as the bookkeeping sweep (bookkeeping/expiry.ts). */
const SWEEP_INTERVAL_MS = 10 * 60_000
const lastSweep = new WeakMap<Db, number>()

/**
 * The history indexes, and its expiry: a TTL index where the server has them
 * (retention 0: none, and one left from before is dropped); elsewhere
 * (ServerProfile ttlIndexes false: FerretDB 1.x) a sweep of what is older than
 * the retention, at most once per SWEEP_INTERVAL_MS per connection. Returns
 * how many a sweep deleted, undefined when none ran.
 */
export async function ensureHistory(
  db: Db,
  retentionDays: number,
  now: Date = new Date(),
): Promise<number | undefined> {
  const { ttlIndexes } = await serverProfileOf(db)
  const history = historyOf(db)
  await ensureIndexes(history, historyIndexes(retentionDays, ttlIndexes))
  if (ttlIndexes) {
    if (retentionDays === 0) await dropIfPresent(history, TTL_INDEX)
    return undefined
  }
  if (retentionDays === 0) return undefined
  const last = lastSweep.get(db)
  if (last !== undefined && now.getTime() - last < SWEEP_INTERVAL_MS) return undefined
  const swept = await sweepHistory(db, retentionDays, now)
  lastSweep.set(db, now.getTime())
  return swept
}

/** Deletes the versions observed more than `retentionDays` before `now` (what the TTL index would). */
export async function sweepHistory(db: Db, retentionDays: number, now: Date): Promise<number> {
  const before = new Date(now.getTime() - retentionDays * DAY_SECONDS * 1000)
  const { deletedCount } = await historyOf(db).deleteMany({ observedAt: { $lt: before } })
  if (deletedCount > 0)
    logger.info(`expired ${deletedCount} history versions`, {
      event: 'history.expired',
      deleted: deletedCount,
      retentionDays,
    })
  return deletedCount
}

async function dropIfPresent(collection: Collection<HistoryDocument>, name: string) {
  const indexes = await collection.listIndexes().toArray()
  if (indexes.some((index) => (index as { name?: unknown }).name === name))
    await collection.dropIndex(name)
}
