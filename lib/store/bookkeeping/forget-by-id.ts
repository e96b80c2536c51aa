import type { Collection, Db } from 'mongodb'
import { documentIdOf } from '../documents/mapper.js'
import type { InventoryDocument } from '../documents/mapper.js'
import { VERSION_SNAPSHOT_COLLECTION, loadVersionSnapshot, readToken } from './version-snapshot.js'

/*
 * The `_id`-keyed half of forget-cluster.ts, for a server where only a bare
 * `{_id}` filter is cheap (ServerProfile readByIdOnly: FerretDB 1.x scans and
 * decodes the whole collection, every cluster's documents, for any other
 * filter). The cluster's documents of a resource are found from its version
 * snapshot (version-snapshot.ts) and deleted one `{_id}` statement each.
 */

/**
 * Statements per `delete` command: FerretDB 1.x holds a pooled connection per
 * statement until the command ends (NON_ATOMIC_UPDATE_SLICE in
 * writes/protocol/apply-chunk.ts), so deletes go in slices of 20...
 */
const DELETE_SLICE = 20
/** ...at most 3 in flight, 60 statements: the writer's default beside a pool of 100. */
const SLICES_IN_FLIGHT = 3

/** Deletes these `_id`s, one `{_id}` statement each; returns how many were there. */
export async function deleteByIds(
  collection: Collection<InventoryDocument>,
  ids: readonly string[],
): Promise<number> {
  let deleted = 0
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const slice = ids.slice(next, next + DELETE_SLICE)
      next += DELETE_SLICE
      const result = await collection.bulkWrite(
        slice.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      )
      deleted += result.deletedCount
    }
  }
  const workers = Math.min(SLICES_IN_FLIGHT, Math.ceil(ids.length / DELETE_SLICE))
  await Promise.all(Array.from({ length: workers }, worker))
  return deleted
}

/**
 * The document `_id`s of one (cluster, resource) its version snapshot knows:
 * the snapshot's uids and those journaled since (written after it, maybe
 * inserted). Undefined when there is no whole snapshot to trust (voided, cut
 * short, deleted by hand): the caller reads the collection once instead.
 * `stateId` is the snapshot's scope, the resource's sync_state `_id`.
 */
export async function snapshotDocumentIds(
  db: Db,
  cluster: string,
  stateId: string,
): Promise<string[] | undefined> {
  const token = await readToken(db, stateId)
  if (!token) return undefined
  const snapshot = await loadVersionSnapshot(db, stateId, token)
  if (!snapshot) return undefined
  const uids = new Set([...snapshot.versions.keys(), ...snapshot.journaled])
  return [...uids].map((uid) => documentIdOf(cluster, uid))
}

/** The ids version-snapshot.ts gives a scope's documents (kept in step with it). */
const partIdOf = (scope: string, part: number) => `${scope}#${part}`
const journalIdOf = (scope: string, entry: number) => `${scope}#journal#${entry}`
const tokenIdOf = (scope: string) => `${scope}#token`

type Snapshots = Collection<{ _id: string; parts?: number }>

/**
 * Deletes every snapshot document of one scope by `_id`: its parts, its
 * journal, then its token. Each run is deleted from its far end down, with
 * part 0 and the token last, so a forget cut short leaves a run that starts
 * where a re-run looks (the token names the journal's length, part 0 the
 * parts'; parts 1.. are written before part 0, so they are probed from 1).
 * Returns how many documents went.
 */
export async function deleteSnapshot(db: Db, scope: string): Promise<number> {
  const snapshots: Snapshots = db.collection(VERSION_SNAPSHOT_COLLECTION)
  const token = await readToken(db, scope)
  const head = await snapshots.findOne({ _id: partIdOf(scope, 0) }, { projection: { parts: 1 } })
  let deleted = 0
  deleted += await deleteRunDown(snapshots, (i) => journalIdOf(scope, i), 0, token?.journal ?? 0)
  deleted += await deleteRunDown(snapshots, (i) => partIdOf(scope, i), 1, head?.parts ?? 0)
  deleted += (await snapshots.deleteOne({ _id: partIdOf(scope, 0) })).deletedCount
  deleted += (await snapshots.deleteOne({ _id: tokenIdOf(scope) })).deletedCount
  return deleted
}

/**
 * Deletes `idOf(from)` .. `idOf(end - 1)`, highest first, where `end` is at
 * least `known` and then as far up as documents are found (what an
 * interrupted save left beyond the count).
 */
async function deleteRunDown(
  snapshots: Snapshots,
  idOf: (index: number) => string,
  from: number,
  known: number,
): Promise<number> {
  let end = Math.max(from, known)
  while (await snapshots.findOne({ _id: idOf(end) }, { projection: { _id: 1 } })) end++
  let deleted = 0
  for (let i = end - 1; i >= from; i--)
    deleted += (await snapshots.deleteOne({ _id: idOf(i) })).deletedCount
  return deleted
}
