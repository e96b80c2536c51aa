import type { AnyBulkWriteOperation } from 'mongodb'
import { documentIdOf, toDocument } from '../../documents/mapper.js'
import { isNewer } from '../../documents/resource-version.js'
import { mayDelete, settle, settleDelete, type SettleOutcome } from './slow-path.js'
import { findTombstoned, writeTombstones } from '../../bookkeeping/tombstones.js'
import type { WriteCounts, WriteOp } from '../write-op.js'
import type { InventoryDocument } from '../../documents/mapper.js'
import {
  buildDocument,
  rejectionOf,
  sortInsertErrors,
  writeAroundRejections,
  type Rejection,
} from '../rejections.js'
import { findByIds, guardOf, type WriteTarget } from './target.js'
import { emptyCounts } from '../write-op.js'

/*
 * The write protocol for one chunk (at most one op per uid, see coalesceOps).
 *
 *  - delete: tombstone first, then a delete guarded on the expected version.
 *    A stale insert racing the delete finds the tombstone after its own insert
 *    and removes itself (no resurrection, DESIGN invariant 3).
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
 * chunk state records what was acknowledged, so a retry after a network error
 * repeats only unacknowledged work: nothing is lost or doubled.
 *
 * A document the server refuses for good (write-rejections.ts) is settled as
 * `rejected` without failing the others; the caller stores it as a dead letter.
 */

export interface ChunkState {
  readonly ops: readonly WriteOp[]
  /** done[i]: op i is acknowledged and counted; a retry skips it. */
  readonly done: boolean[]
  readonly counts: WriteCounts
  /** Ops refused for good (done, never written), by index: the dead letters of this chunk. */
  readonly rejected: Map<number, Rejection>
}

export function newChunkState(ops: readonly WriteOp[]): ChunkState {
  return { ops, done: ops.map(() => false), counts: emptyCounts(), rejected: new Map() }
}

interface Write {
  readonly index: number
  readonly doc: InventoryDocument
}
interface Replace extends Write {
  /** The version the write is guarded on. */
  readonly guard: string
}
interface Delete {
  readonly index: number
  readonly _id: string
  readonly deletedAt: string
  /** The version the delete is guarded on; undefined: whatever is stored. */
  readonly guard: string | undefined
}

function record(state: ChunkState, index: number, outcome: SettleOutcome): void {
  state.done[index] = true
  if (outcome === 'inserted') state.counts.inserted++
  else if (outcome === 'updated') state.counts.updated++
  else if (outcome === 'deleted') state.counts.deleted++
  else state.counts.skippedByGuard++
}

function reject(state: ChunkState, index: number, rejection: Rejection): void {
  state.done[index] = true
  state.rejected.set(index, rejection)
}

/** Records what the slow path decided, or the rejection it ran into. */
async function settled(
  state: ChunkState,
  index: number,
  outcome: Promise<SettleOutcome>,
): Promise<void> {
  try {
    record(state, index, await outcome)
  } catch (error) {
    const rejection = rejectionOf(error)
    if (!rejection) throw error
    reject(state, index, rejection)
  }
}

async function storedVersions(
  target: WriteTarget,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const projection = { _id: 1, resourceVersion: 1 } as const
  const found = await findByIds(
    target.readByIdOnly,
    ids,
    (many) => target.collection.find({ _id: { $in: many } }, { projection }).toArray(),
    (one) => target.collection.findOne({ _id: one }, { projection }),
  )
  return new Map(found.map((d) => [d._id, d.resourceVersion]))
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

/** Applies (what is left of) one chunk; throws on an error for the caller to retry. */
export async function applyChunk(target: WriteTarget, state: ChunkState): Promise<void> {
  const { cluster } = target.mapping
  const now = target.now()
  const readFirst = !target.atomicConditionalWrites
  const deletes: Delete[] = []
  const deletesToRead: Delete[] = []
  const inserts: Write[] = []
  const replaces: Replace[] = []
  const writesToRead: Write[] = []
  state.ops.forEach((op, index) => {
    if (state.done[index]) return
    if (op.type === 'delete') {
      const d = {
        index,
        _id: documentIdOf(cluster, op.uid),
        deletedAt: op.deletedAtResourceVersion,
        guard: op.expectedResourceVersion,
      }
      ;(readFirst ? deletesToRead : deletes).push(d)
      return
    }
    const built = buildDocument(() => toDocument(op.object, target.mapping, now))
    if ('rejection' in built) {
      reject(state, index, built.rejection)
      return
    }
    const { doc } = built
    if (op.type === 'insert') inserts.push({ index, doc })
    else if (op.type === 'replace' && !readFirst)
      replaces.push({ index, doc, guard: op.expectedResourceVersion })
    else writesToRead.push({ index, doc })
  })

  const tombstones = [...deletes, ...deletesToRead].map((d) => ({
    _id: d._id,
    cluster,
    resource: target.resourceId,
    uid: d._id.slice(cluster.length + 1),
    resourceVersion: d.deletedAt,
    deletedAt: now,
  }))
  await writeTombstones(target.tombstones, tombstones)

  const stored = await storedVersions(target, [
    ...deletesToRead.map((d) => d._id),
    ...writesToRead.map((w) => w.doc._id),
  ])
  for (const d of deletesToRead) {
    const current = stored.get(d._id)
    if (current === undefined || !mayDelete(current, d.deletedAt)) record(state, d.index, 'skipped')
    else deletes.push({ ...d, guard: current })
  }
  for (const w of writesToRead) {
    const current = stored.get(w.doc._id)
    if (current === undefined) inserts.push(w)
    else if (isNewer(w.doc.resourceVersion, current)) replaces.push({ ...w, guard: current })
    else record(state, w.index, 'skipped')
  }

  await applyDeletes(target, state, deletes)
  await applyInserts(target, state, inserts)
  await applyReplaces(target, state, replaces)
}
