import type { AnyBulkWriteOperation } from 'mongodb'
import { findTombstoned, writeTombstones } from '../../bookkeeping/tombstones.js'
import type { InventoryDocument } from '../../documents/mapper.js'
import { sortInsertErrors, writeAroundRejections } from '../rejections.js'
import {
  planChunk,
  resolveReads,
  tombstonesOfPlan,
  type Delete,
  type Replace,
  type Write,
} from './chunk-plan.js'
import { record, reject, settled, type ChunkState } from './chunk-state.js'
import { settle, settleDelete } from './slow-path.js'
import { guardOf, storedVersions, type WriteTarget } from './target.js'

/*
 * The write protocol for one chunk (at most one op per uid, see coalesceOps).
 *
 *  - delete: tombstone first, then a delete guarded on the expected version.
 *    A stale insert racing the delete finds the tombstone after its own insert
 *    and removes itself (no resurrection, docs/design.md, invariant 3).
 *  - insert: one unordered insertMany; a duplicate key means the uid was
 *    stored meanwhile: slow path. Then the tombstone check.
 *  - replace: a compare-and-swap on the expected version; no match: slow path.
 *  - upsert (watch events): read the stored versions first, then insert,
 *    replace (guarded on the version read) or skip.
 *  - slow path (slow-path.ts): read again and decide: never regress, never
 *    resurrect.
 * Where conditional writes are not atomic (ServerProfile), replaces and
 * deletes read first as upserts do, and write by `_id` (see guardOf).
 *
 * Servers that speak the MongoDB protocol differ where it hurts: FerretDB's
 * `update` stops at its first failing statement even when unordered, and none
 * of them gives us transactions. So no step expects a statement to fail:
 * inserts go through `insert` (which honours ordered:false and reports
 * duplicate keys per document); guarded replaces and deletes match nothing
 * rather than fail.
 *
 * Every step is idempotent by `_id` and guarded by resourceVersion, and the
 * chunk state (chunk-state.ts) records what was acknowledged, so a retry
 * after a network error repeats only unacknowledged work: nothing is lost or
 * doubled.
 *
 * A document the server refuses for good (rejections.ts) is settled as
 * `rejected` without failing the others; the caller stores it as a dead letter.
 */

/** Applies (what is left of) one chunk; throws on an error for the caller to retry. */
export async function applyChunk(target: WriteTarget, state: ChunkState): Promise<void> {
  const now = target.now()
  const plan = planChunk(target, state, now)
  await writeTombstones(target.tombstones, tombstonesOfPlan(target, plan, now))
  await resolveReads(target, state, plan)
  await applyDeletes(target, state, plan.deletes)
  await applyInserts(target, state, plan.inserts)
  await applyReplaces(target, state, plan.replaces)
}

async function applyDeletes(
  target: WriteTarget,
  state: ChunkState,
  deletes: Delete[],
): Promise<void> {
  if (deletes.length === 0) return
  const result = await target.collection.bulkWrite(
    deletes.map((d) => ({
      deleteOne: {
        filter: d.guard === undefined ? { _id: d._id } : guardOf(target, d._id, d.guard),
      },
    })),
    { ordered: false },
  )
  if (result.deletedCount === deletes.length) {
    for (const d of deletes) record(state, d.index, 'deleted')
    return
  }
  // Some guards matched nothing; the totals do not say which, so look.
  const remaining = await storedVersions(
    target,
    deletes.map((d) => d._id),
  )
  for (const d of deletes) {
    if (!remaining.has(d._id)) record(state, d.index, 'deleted')
    else record(state, d.index, await settleDelete(target, d._id, d.deletedAt))
  }
}

async function applyInserts(
  target: WriteTarget,
  state: ChunkState,
  inserts: Write[],
): Promise<void> {
  if (inserts.length === 0) return
  const lost = new Set<number>()
  try {
    await target.collection.insertMany(
      inserts.map((w) => w.doc),
      { ordered: false },
    )
  } catch (error) {
    // A duplicate `_id`: that uid was stored meanwhile (slow path). A rejection: a dead letter.
    const sorted = sortInsertErrors(error)
    for (const i of sorted.duplicates) lost.add(i)
    for (const [i, rejection] of sorted.rejected) {
      lost.add(i)
      reject(state, inserts[i]!.index, rejection)
    }
  }
  const inserted = inserts.filter((_, i) => !lost.has(i))
  const tombstoned = await findTombstoned(
    target.tombstones,
    inserted.map((w) => w.doc._id),
  )
  if (tombstoned.size > 0) await target.collection.deleteMany({ _id: { $in: [...tombstoned] } })
  for (const w of inserted)
    record(state, w.index, tombstoned.has(w.doc._id) ? 'skipped' : 'inserted')
  for (const i of lost)
    if (!state.done[inserts[i]!.index])
      await settled(state, inserts[i]!.index, settle(target, inserts[i]!.doc))
}

/**
 * FerretDB 1.x keeps one pooled SQLite connection per statement of an
 * `update` command until the command ends (msg_update.go defers each close
 * inside its loop); about 100 statements in flight exhaust its pool of 100
 * and hang the server. Slices of 20 keep the default 3 chunks in flight at 60.
 */
const NON_ATOMIC_UPDATE_SLICE = 20

async function applyReplaces(
  target: WriteTarget,
  state: ChunkState,
  replaces: Replace[],
): Promise<void> {
  if (replaces.length === 0) return
  const operations: AnyBulkWriteOperation<InventoryDocument>[] = replaces.map(({ doc, guard }) => ({
    replaceOne: { filter: guardOf(target, doc._id, guard), replacement: doc, upsert: false },
  }))
  const slice = target.atomicConditionalWrites ? operations.length : NON_ATOMIC_UPDATE_SLICE
  let matched = 0
  for (let i = 0; i < operations.length; i += slice) {
    try {
      const result = await target.collection.bulkWrite(operations.slice(i, i + slice), {
        ordered: false,
      })
      matched += result.matchedCount
    } catch (error) {
      matched += await writeAroundRejections(
        error,
        replaces.slice(i, i + slice),
        async ({ doc, guard }) =>
          (await target.collection.replaceOne(guardOf(target, doc._id, guard), doc)).matchedCount,
        (r, rejection) => reject(state, r.index, rejection),
      )
    }
  }
  const left = replaces.filter((r) => !state.done[r.index])
  if (matched === left.length) {
    for (const r of left) record(state, r.index, 'updated')
    return
  }
  const now = await storedVersions(
    target,
    left.map((r) => r.doc._id),
  )
  for (const r of left) {
    if (now.get(r.doc._id) === r.doc.resourceVersion) record(state, r.index, 'updated')
    else await settled(state, r.index, settle(target, r.doc))
  }
}
