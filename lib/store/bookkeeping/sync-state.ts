import type { Collection, Db } from 'mongodb'
import { stateIdOf, type ResourceRef } from '../../resource-ref.js'

const STATE_COLLECTION = 'sync_state'

/** Counts of a run, as the reconcile and watch functions report them. */
export type RunCounts = Readonly<Record<string, number>>

/** Who works a (cluster, resource) now, and until when: no two invocations work one resource at once. */
export interface Lease {
  owner: string
  expiresAt: Date
}

/** docs/design.md#bookkeeping-collections, `sync_state`: one document per (cluster, resource). */
export interface SyncState {
  _id: string
  cluster: string
  /** ResourceRef id, `apps/v1/deployments`. */
  resource: string
  listResourceVersion?: string | null
  watchResourceVersion?: string | null
  lastFullSyncAt?: Date | null
  lastWatchAt?: Date | null
  needsRelist?: boolean
  relistReason?: string | null
  lastError?: { message: string; at: Date } | null
  lease?: Lease | null
  lastListCounts?: RunCounts
  lastWatchCounts?: RunCounts
  /** A reset of the stored versions begun and not yet completed by a complete list (version-reset.ts). */
  versionReset?: VersionReset | null
  updatedAt?: Date
}

/**
 * The cluster served a list older than the saved checkpoint (a restore): the
 * stored versions are being forgotten and rewritten from that list.
 */
export interface VersionReset {
  /** The list's resourceVersion, below `checkpoint`. */
  listResourceVersion: string
  /** The saved checkpoint it went back from. */
  checkpoint: string
  /**
   * Every stored version of the resource is forgotten: a later pass only
   * goes on rewriting. False while a reset (or one of some namespaces only)
   * may have left versions of the lost timeline behind.
   */
  forgotten: boolean
  at: Date
}

export function stateCollectionOf(db: Db): Collection<SyncState> {
  return db.collection<SyncState>(STATE_COLLECTION)
}

export interface Checkpoints {
  readonly id: string
  getState(): Promise<SyncState | null>
  /**
   * After a complete list whose every write is acknowledged (docs/design.md,
   * invariant 5): the list RV is also where the next watch resumes.
   */
  saveListCheckpoint(listResourceVersion: string, counts: RunCounts): Promise<void>
  /** After the writes of every event up to `resourceVersion` are acknowledged. */
  saveWatchCheckpoint(resourceVersion: string, counts: RunCounts): Promise<void>
  /** A 410 on a watch: the next reconcile must list again. */
  markNeedsRelist(reason: string): Promise<void>
  recordError(message: string): Promise<void>
  /** Before the stored versions are forgotten (and once they all are): the next reconcile finishes a reset cut short. */
  markVersionReset(reset: Omit<VersionReset, 'at'>): Promise<void>
}

/**
 * Checkpoints of one (cluster, resource). The writes are plain `$set` upserts
 * on `_id`: the caller holds the lease, so there is one writer at a time, and
 * the document usually exists already (acquireLease created it).
 */
export function checkpointsFor(
  db: Db,
  cluster: string,
  ref: ResourceRef,
  now: () => Date = () => new Date(),
): Checkpoints {
  const states = stateCollectionOf(db)
  const id = stateIdOf(cluster, ref)
  const set = async (fields: Partial<SyncState>): Promise<void> => {
    await states.updateOne(
      { _id: id },
      // cluster and resource are set every time: acquireLease may have created the document without them.
      { $set: { ...fields, cluster, resource: ref.id, updatedAt: now() } },
      { upsert: true },
    )
  }
  return {
    id,
    getState: () => states.findOne({ _id: id }),
    saveListCheckpoint: (listResourceVersion, counts) =>
      set({
        listResourceVersion,
        watchResourceVersion: listResourceVersion,
        lastFullSyncAt: now(),
        needsRelist: false,
        relistReason: null,
        lastError: null,
        lastListCounts: counts,
        versionReset: null,
      }),
    saveWatchCheckpoint: (resourceVersion, counts) =>
      set({
        watchResourceVersion: resourceVersion,
        lastWatchAt: now(),
        lastError: null,
        lastWatchCounts: counts,
      }),
    markNeedsRelist: (reason) => set({ needsRelist: true, relistReason: reason }),
    recordError: (message) => set({ lastError: { message, at: now() } }),
    markVersionReset: (reset) => set({ versionReset: { ...reset, at: now() } }),
  }
}
