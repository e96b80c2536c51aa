import type { Tombstone } from '../../bookkeeping/tombstones.js'
import { documentIdOf, toDocument, type InventoryDocument } from '../../documents/mapper.js'
import { isNewer } from '../../documents/resource-version.js'
import { buildDocument } from '../rejections.js'
import { record, reject, type ChunkState } from './chunk-state.js'
import { mayDelete } from './slow-path.js'
import { storedVersions, type WriteTarget } from './target.js'

export interface Write {
  readonly index: number
  readonly doc: InventoryDocument
}
export interface Replace extends Write {
  /** The version the write is guarded on. */
  readonly guard: string
}
export interface Delete {
  readonly index: number
  readonly _id: string
  readonly deletedAt: string
  /** The version the delete is guarded on; undefined: whatever is stored. */
  readonly guard: string | undefined
}

/** What is left of a chunk, sorted by how it is written. */
export interface ChunkPlan {
  readonly deletes: Delete[]
  readonly inserts: Write[]
  readonly replaces: Replace[]
  /** Deletes and writes that read the stored version before deciding (resolveReads). */
  readonly deletesToRead: Delete[]
  readonly writesToRead: Write[]
}

/**
 * Sorts the ops not yet done: deletes, inserts and guarded replaces go
 * straight to the server; upserts, and where conditional writes are not
 * atomic replaces and deletes too, read first. An object that cannot become
 * a document is rejected here.
 */
export function planChunk(target: WriteTarget, state: ChunkState, now: Date): ChunkPlan {
  const { cluster } = target.mapping
  const readFirst = !target.atomicConditionalWrites
  const plan: ChunkPlan = {
    deletes: [],
    inserts: [],
    replaces: [],
    deletesToRead: [],
    writesToRead: [],
  }
  state.ops.forEach((op, index) => {
    if (state.done[index]) return
    if (op.type === 'delete') {
      const d = {
        index,
        _id: documentIdOf(cluster, op.uid),
        deletedAt: op.deletedAtResourceVersion,
        guard: op.expectedResourceVersion,
      }
      ;(readFirst ? plan.deletesToRead : plan.deletes).push(d)
      return
    }
    const built = buildDocument(() => toDocument(op.object, target.mapping, now))
    if ('rejection' in built) {
      reject(state, index, built.rejection)
      return
    }
    const { doc } = built
    if (op.type === 'insert') plan.inserts.push({ index, doc })
    else if (op.type === 'replace' && !readFirst)
      plan.replaces.push({ index, doc, guard: op.expectedResourceVersion })
    else plan.writesToRead.push({ index, doc })
  })
  return plan
}

/** The tombstones of a plan's deletes, written before any delete (no resurrection). */
export function tombstonesOfPlan(target: WriteTarget, plan: ChunkPlan, now: Date): Tombstone[] {
  const { cluster } = target.mapping
  return [...plan.deletes, ...plan.deletesToRead].map((d) => ({
    _id: d._id,
    cluster,
    resource: target.resourceId,
    uid: d._id.slice(cluster.length + 1),
    resourceVersion: d.deletedAt,
    deletedAt: now,
  }))
}

/**
 * Reads the stored versions of the ops that read first, and turns each into
 * an insert, a replace guarded on the version read, a delete, or a skip
 * (never regress, never resurrect).
 */
export async function resolveReads(
  target: WriteTarget,
  state: ChunkState,
  plan: ChunkPlan,
): Promise<void> {
  const stored = await storedVersions(target, [
    ...plan.deletesToRead.map((d) => d._id),
    ...plan.writesToRead.map((w) => w.doc._id),
  ])
  for (const d of plan.deletesToRead) {
    const current = stored.get(d._id)
    if (current === undefined || !mayDelete(current, d.deletedAt)) record(state, d.index, 'skipped')
    else plan.deletes.push({ ...d, guard: current })
  }
  for (const w of plan.writesToRead) {
    const current = stored.get(w.doc._id)
    if (current === undefined) plan.inserts.push(w)
    else if (isNewer(w.doc.resourceVersion, current)) plan.replaces.push({ ...w, guard: current })
    else record(state, w.index, 'skipped')
  }
}
