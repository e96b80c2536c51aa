import { SyncError } from '../../../errors.js'
import { isDuplicateKeyError } from '../../connection/driver-errors.js'
import { areComparable, isNewer } from '../../documents/resource-version.js'
import { findTombstoned } from '../../bookkeeping/tombstones.js'
import { duplicateIsOnId } from '../rejections.js'
import type { InventoryDocument } from '../../documents/mapper.js'
import { guardOf, type WriteTarget } from './target.js'

export type SettleOutcome = 'inserted' | 'updated' | 'deleted' | 'skipped'

/**
 * Rounds of read-then-write before giving up. Each lost round means another
 * writer changed this very document in between; with one operation per uid per
 * call (coalesceOps) and one lease holder per resource, even one is rare.
 */
const MAX_ROUNDS = 5

/** A duplicate key on `_id` (the uid is stored): another writer got there first. */
async function duplicateIsRace(target: WriteTarget, _id: string, error: unknown): Promise<boolean> {
  const onId = duplicateIsOnId(error)
  if (onId !== undefined) return onId
  return (await target.collection.findOne({ _id }, { projection: { _id: 1 } })) !== null
}

/** Inserts unless the uid is tombstoned; 'raced' when another writer inserted it first. */
async function insertUnlessTombstoned(
  target: WriteTarget,
  doc: InventoryDocument,
): Promise<SettleOutcome | 'raced'> {
  try {
    await target.collection.insertOne(doc)
  } catch (error) {
    if (isDuplicateKeyError(error) && (await duplicateIsRace(target, doc._id, error)))
      return 'raced'
    throw error // a duplicate on another unique index is a rejection (writes/rejections.ts)
  }
  // A delete may have landed between our read and our insert: its tombstone was
  // written before its deleteOne, so checking after our insert cannot miss it.
  if ((await findTombstoned(target.tombstones, [doc._id])).size > 0) {
    await target.collection.deleteOne({ _id: doc._id })
    return 'skipped'
  }
  return 'inserted'
}

async function storedVersionOf(target: WriteTarget, _id: string): Promise<string | undefined> {
  const stored = await target.collection.findOne({ _id }, { projection: { resourceVersion: 1 } })
  return stored?.resourceVersion
}

function lostTooOften(target: WriteTarget, _id: string, resourceVersion: string): SyncError {
  return new SyncError(
    `write of ${_id} lost its compare-and-swap ${MAX_ROUNDS} times: another writer keeps changing it`,
    {
      context: { operation: 'settle', resource: target.resourceId, resourceVersion },
    },
  )
}

/**
 * The slow path for a write that lost a race (duplicate key on insert, no
 * match on a guarded replace): read what is stored now and decide again.
 * Absent and tombstoned: the object is gone, skip. Absent: insert. Stored
 * older than ours: replace, guarded on the version just read. Stored as new or
 * newer: skip, never regress.
 */
export async function settle(target: WriteTarget, doc: InventoryDocument): Promise<SettleOutcome> {
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const stored = await storedVersionOf(target, doc._id)
    if (stored === undefined) {
      if ((await findTombstoned(target.tombstones, [doc._id])).size > 0) return 'skipped'
      const outcome = await insertUnlessTombstoned(target, doc)
      if (outcome !== 'raced') return outcome
      continue
    }
    if (!isNewer(doc.resourceVersion, stored)) return 'skipped'
    const result = await target.collection.replaceOne(guardOf(target, doc._id, stored), doc)
    if (result.matchedCount === 1) return 'updated'
  }
  throw lostTooOften(target, doc._id, doc.resourceVersion)
}

/**
 * Whether a stored version may be deleted by a delete known at `deletedAt`.
 * A version newer than the deletion point would contradict the caller's claim
 * that the uid is gone: keep it rather than lose a live object. Opaque
 * versions cannot be ordered; the tombstone's word (uid gone) then stands.
 */
export function mayDelete(stored: string, deletedAt: string): boolean {
  return !(areComparable(stored, deletedAt) && isNewer(stored, deletedAt))
}

/** The slow path of a delete whose guarded deleteOne matched nothing while the document is still there. */
export async function settleDelete(
  target: WriteTarget,
  _id: string,
  deletedAt: string,
): Promise<SettleOutcome> {
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const stored = await storedVersionOf(target, _id)
    if (stored === undefined) return 'deleted'
    if (!mayDelete(stored, deletedAt)) return 'skipped'
    const result = await target.collection.deleteOne(guardOf(target, _id, stored))
    if (result.deletedCount === 1) return 'deleted'
  }
  throw lostTooOften(target, _id, deletedAt)
}
