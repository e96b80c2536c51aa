import type { Db } from 'mongodb'
import { logger } from '../../log.js'
import { serverProfileOf } from '../connection/server-profile.js'
import { ensureIndexes, type NamedIndex } from '../documents/indexes.js'
import { DEAD_LETTER_COLLECTION, deadLettersOf } from './dead-letters.js'
import { TOMBSTONE_COLLECTION, tombstonesOf } from './tombstones.js'

/*
 * Bookkeeping that cannot grow forever (docs/design.md#bookkeeping-collections):
 * a tombstone expires TOMBSTONE_TTL_DAYS after the delete it records (a
 * complete list usually prunes it long before), a dead letter
 * DEAD_LETTER_TTL_DAYS after its last failure (one still failing is renewed by
 * every retry; one left is of a resource or cluster no longer synced).
 *
 * Where the server has TTL indexes (MongoDB) it deletes them itself. Where it
 * has none (ServerProfile ttlIndexes: FerretDB 1.x), the store sweeps them: at
 * most once per SWEEP_INTERVAL_MS per connection, before a reconcile.
 */

export interface BookkeepingTtl {
  readonly tombstoneDays: number
  readonly deadLetterDays: number
}

const DAY_SECONDS = 24 * 60 * 60

/** The TTL indexes, by collection (docs/design.md#indexes). */
export function ttlIndexesOf(ttl: BookkeepingTtl): Record<string, NamedIndex> {
  return {
    [TOMBSTONE_COLLECTION]: {
      key: { deletedAt: 1 },
      name: 'deletedAt_ttl',
      expireAfterSeconds: ttl.tombstoneDays * DAY_SECONDS,
    },
    [DEAD_LETTER_COLLECTION]: {
      key: { lastFailedAt: 1 },
      name: 'lastFailedAt_ttl',
      expireAfterSeconds: ttl.deadLetterDays * DAY_SECONDS,
    },
  }
}

/** Short of the reconcile's 15-minute schedule: about once per scheduled reconcile per warm container. */
const SWEEP_INTERVAL_MS = 10 * 60_000

const lastSweep = new WeakMap<Db, number>()

/** What one sweep deleted. */
export interface Expired {
  readonly tombstones: number
  readonly deadLetters: number
}

/**
 * Makes expired bookkeeping go away: the TTL indexes where the server has
 * them, otherwise a sweep (at most once per SWEEP_INTERVAL_MS for this Db).
 * Returns what a sweep deleted, undefined when none ran.
 */
export async function ensureExpiry(
  db: Db,
  ttl: BookkeepingTtl,
  now: Date = new Date(),
): Promise<Expired | undefined> {
  if ((await serverProfileOf(db)).ttlIndexes) {
    for (const [collection, index] of Object.entries(ttlIndexesOf(ttl)))
      await ensureIndexes(db.collection(collection), [index])
    return undefined
  }
  const last = lastSweep.get(db)
  if (last !== undefined && now.getTime() - last < SWEEP_INTERVAL_MS) return undefined
  const expired = await sweepExpired(db, ttl, now)
  lastSweep.set(db, now.getTime())
  return expired
}

/**
 * Deletes what a TTL index would have by `now`. Each filter reads its whole
 * collection on a server without cheap non-`_id` filters; both collections are
 * bookkeeping, kept small by the prunes and by this sweep itself.
 */
export async function sweepExpired(db: Db, ttl: BookkeepingTtl, now: Date): Promise<Expired> {
  const before = (days: number) => new Date(now.getTime() - days * DAY_SECONDS * 1000)
  const tombstones = await tombstonesOf(db).deleteMany({
    deletedAt: { $lt: before(ttl.tombstoneDays) },
  })
  const deadLetters = await deadLettersOf(db).deleteMany({
    lastFailedAt: { $lt: before(ttl.deadLetterDays) },
  })
  const expired = { tombstones: tombstones.deletedCount, deadLetters: deadLetters.deletedCount }
  if (expired.tombstones + expired.deadLetters > 0)
    logger.info(
      `expired ${expired.tombstones} tombstones and ${expired.deadLetters} dead letters`,
      { event: 'bookkeeping.expired', ...expired },
    )
  return expired
}
