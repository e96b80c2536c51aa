import type { Collection, Db } from 'mongodb'
import { SyncError } from '../../errors.js'
import type { KubeObject } from '../../kube/types.js'
import { logger } from '../../log.js'
import { serverProfileOf } from '../connection/server-profile.js'
import { unwrapBulkWriteError, writeErrorsOf } from '../connection/driver-errors.js'
import {
  documentIdOf,
  fromDocument,
  type InventoryDocument,
  type MappingContext,
} from '../documents/mapper.js'
import { findByIds } from '../writes/protocol/target.js'
import { historyOf } from './history-collection.js'
import { inPacedSlices, retried, type SlicePolicy } from './paced-slices.js'
import {
  historyDocuments,
  type HistoryDocument,
  type HistorySource,
  type HistoryType,
  type ObservedVersion,
  type StoredVersion,
} from './history-document.js'

/**
 * A version to record, in the order observed. `unstored`: the caller knows
 * the inventory holds nothing for it (a reconcile insert), so nothing is read.
 * A delete known by uid only (a reconcile's) records the last stored state.
 */
export type HistoryChange =
  | {
      readonly type: HistoryType
      readonly object: KubeObject
      readonly unstored?: boolean
      /** When it was observed (a watch event's arrival); default: when it is recorded. */
      readonly observedAt?: Date
    }
  | { readonly type: 'DELETED'; readonly uid: string; readonly resourceVersion: string }

export interface HistoryCounts {
  /** Versions inserted (a duplicate, already recorded, is not counted). */
  written: number
  /** Of those, the ones with complete: false. */
  incomplete: number
}

export function emptyHistoryCounts(): HistoryCounts {
  return { written: 0, incomplete: 0 }
}

/** What recordHistory did: its counts, and the stored versions it read on the way. */
export interface RecordedHistory extends HistoryCounts {
  /**
   * The inventory `_id`s it read, each with its stored resourceVersion (null:
   * not stored). The inventory write of the same batch, under the same lease,
   * takes them instead of reading the same ids again (protocol/target.ts).
   */
  readonly read: ReadonlyMap<string, string | null>
}

/**
 * Where one (cluster, resource)'s history goes, how its objects are mapped, and
 * how its reads and inserts are sliced, retried and paced (paced-slices.ts).
 */
export interface HistoryTarget extends SlicePolicy {
  readonly db: Db
  readonly inventory: Collection<InventoryDocument>
  readonly mapping: MappingContext
}

const DUPLICATE_KEY = 11000

/**
 * Records `changes` in object_history, before the inventory writes of the same
 * versions (docs/history.md): the stored inventory objects the first version
 * of each uid is diffed against are read by `_id` (one `$in` per slice, or
 * one look-up per id where only `{_id}` filters are cheap), the documents are
 * built in order (history-document.ts), then inserted unordered; a duplicate
 * `_id` is a version already recorded (a replay), never an error. Reads and
 * inserts go in slices of BULK_WRITE_BATCH_SIZE, in flight together as the
 * container's pacing allows, each retried on transient errors through
 * MongoDB's breaker; the caller writes the inventory, and moves a checkpoint,
 * only after this resolves.
 */
export async function recordHistory(
  target: HistoryTarget,
  changes: readonly HistoryChange[],
  source: HistorySource,
  signal?: AbortSignal,
): Promise<RecordedHistory> {
  if (changes.length === 0) return { ...emptyHistoryCounts(), read: new Map() }
  const ids = idsToRead(target, changes)
  const stored = await readStored(target, ids, signal)
  const read = new Map(ids.map((id) => [id, stored.get(id)?.resourceVersion ?? null]))
  const versions = observedVersions(target, changes, stored)
  const docs = historyDocuments(versions, storedByUid(target, stored), {
    mapping: target.mapping,
    resource: target.resource,
    source,
    observedAt: new Date(),
  })
  const history = historyOf(target.db)
  const inserted = await inPacedSlices(target, docs, 'insert history', signal, (slice) =>
    insertNew(history, slice),
  )
  return {
    written: inserted.length,
    incomplete: inserted.filter((doc) => !doc.complete).length,
    read,
  }
}

/** The inventory `_id`s to read: each uid's first change, unless known not stored. */
function idsToRead(target: HistoryTarget, changes: readonly HistoryChange[]): string[] {
  const seen = new Set<string>()
  const ids: string[] = []
  for (const change of changes) {
    const uid = 'object' in change ? change.object.metadata.uid : change.uid
    if (seen.has(uid)) continue
    seen.add(uid)
    if ('object' in change && change.unstored) continue
    ids.push(documentIdOf(target.mapping.cluster, uid))
  }
  return ids
}

type StoredDoc = Pick<
  InventoryDocument,
  '_id' | 'uid' | 'resourceVersion' | 'historyResourceVersion' | 'object'
>

const projection = { _id: 1, uid: 1, resourceVersion: 1, historyResourceVersion: 1, object: 1 }

async function readStored(
  target: HistoryTarget,
  ids: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, StoredDoc>> {
  if (ids.length === 0) return new Map()
  const { readByIdOnly } = await retried(target, signal, 'server profile', () =>
    serverProfileOf(target.db),
  )
  // In flight together, as the inventory write's chunks are with history off: read one
  // after the other, a backlog of more than BULK_WRITE_BATCH_SIZE objects was read at a third
  // of the rate the writer reads it without history, just when the watch is behind.
  const found = await inPacedSlices(target, ids, 'read stored objects', signal, (slice) =>
    findByIds(
      readByIdOnly,
      slice,
      (many) => target.inventory.find({ _id: { $in: many } }, { projection }).toArray(),
      (one) => target.inventory.findOne({ _id: one }, { projection }),
    ),
  )
  return new Map(found.map((doc) => [doc._id, doc]))
}

/** The changes as versions; a delete known by uid only takes the stored state (none stored: nothing to record). */
function observedVersions(
  target: HistoryTarget,
  changes: readonly HistoryChange[],
  stored: ReadonlyMap<string, StoredDoc>,
): ObservedVersion[] {
  const versions: ObservedVersion[] = []
  for (const change of changes) {
    if ('object' in change) {
      versions.push({
        type: change.type,
        object: change.object,
        ...(change.observedAt ? { observedAt: change.observedAt } : {}),
      })
      continue
    }
    const last = stored.get(documentIdOf(target.mapping.cluster, change.uid))
    if (last)
      versions.push({
        type: 'DELETED',
        object: fromDocument(last),
        resourceVersion: change.resourceVersion,
      })
  }
  return versions
}

function storedByUid(
  target: HistoryTarget,
  stored: ReadonlyMap<string, StoredDoc>,
): Map<string, StoredVersion> {
  const byUid = new Map<string, StoredVersion>()
  for (const doc of stored.values()) {
    const uid = doc.uid ?? doc._id.slice(target.mapping.cluster.length + 1)
    byUid.set(uid, {
      resourceVersion: doc.resourceVersion,
      object: doc.object,
      ...(doc.historyResourceVersion === undefined
        ? {}
        : { historyResourceVersion: doc.historyResourceVersion }),
    })
  }
  return byUid
}

/**
 * Inserts the documents not stored yet and returns those it inserted. A
 * duplicate `_id` is a version already recorded; any other refusal fails the
 * call, so the inventory write and the checkpoint after it do not happen.
 */
async function insertNew(
  history: Collection<HistoryDocument>,
  docs: HistoryDocument[],
): Promise<HistoryDocument[]> {
  if (docs.length === 0) return []
  try {
    await history.insertMany(docs, { ordered: false })
    return docs
  } catch (error) {
    const writeErrors = writeErrorsOf(error)
    if (!writeErrors || writeErrors.length === 0) throw unwrapBulkWriteError(error)
    const refused = writeErrors.find((e) => e.code !== DUPLICATE_KEY)
    if (refused) {
      const doc = docs[refused.index]
      throw new SyncError(
        `history version ${doc?._id ?? '?'} refused by the server (code ${refused.code ?? '?'})`,
        {
          context: { operation: 'insertHistory', resourceVersion: doc?.resourceVersion },
          cause: error,
        },
      )
    }
    const duplicates = new Set(writeErrors.map((e) => e.index))
    logger.debug(`${duplicates.size} history versions already recorded`, {
      event: 'history.duplicates',
      duplicates: duplicates.size,
    })
    return docs.filter((_, i) => !duplicates.has(i))
  }
}
