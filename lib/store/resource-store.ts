import type { Db } from 'mongodb'
import type { Config } from '../config.js'
import { DeadlineError } from '../errors.js'
import { guarded } from '../resilience/circuit-breaker.js'
import type { ResolvedResource } from '../kube/types.js'
import { collectionNameOf, stateIdOf } from '../resource-ref.js'
import { writeChunked } from './writes/bulk-writer.js'
import { checkpointsFor } from './bookkeeping/sync-state.js'
import { DeadLetterTracker } from './bookkeeping/dead-letter-tracker.js'
import {
  DEAD_LETTER_COLLECTION,
  deadLetterIndexes,
  type DeadLetterSource,
} from './bookkeeping/dead-letters.js'
import { ensureIndexes } from './documents/indexes.js'
import { acquireLease, releaseLease } from './bookkeeping/lease.js'
import { pruneTombstones } from './bookkeeping/tombstones.js'
import type { WriteCounts, WriteOp } from './writes/write-op.js'
import type { InventoryDocument } from './documents/mapper.js'
import type { RunCounts, SyncState } from './bookkeeping/sync-state.js'
import { serverProfileOf } from './connection/server-profile.js'
import { loadVersionIndex } from './bookkeeping/version-index.js'
import {
  loadVersionSnapshot,
  saveVersionSnapshot,
  stampWrites,
} from './bookkeeping/version-snapshot.js'
import { retryWithBackoff } from '../retry.js'

/** One (cluster, resource) in MongoDB, as the sync sees it: its collection, versions, checkpoint and lease. */
export interface ResourceStore {
  ensureIndexes(): Promise<void>
  /** uid -> stored resourceVersion, for the whole resource or the given namespaces. */
  loadVersions(namespaces?: readonly string[]): Promise<Map<string, string>>
  /**
   * The whole index as it stands after a complete pass that wrote exactly what
   * it planned: a store may keep it to load the next pass faster, valid until
   * the next write.
   */
  saveVersions(versions: ReadonlyMap<string, string>): Promise<void>
  /** `source` names who wrote, on the dead letters of what the server refused (default reconcile). */
  write(ops: WriteOp[], signal?: AbortSignal, source?: DeadLetterSource): Promise<WriteCounts>
  /** After a complete list: drops the dead letters of uids it did not serve (objects gone). */
  pruneDeadLetters(seen: ReadonlySet<string>, namespaces?: readonly string[]): Promise<void>
  /** A complete list at `listResourceVersion` supersedes older tombstones. */
  pruneTombstones(listResourceVersion: string): Promise<void>
  getState(): Promise<SyncState | undefined>
  saveListCheckpoint(listResourceVersion: string, counts: RunCounts): Promise<void>
  saveWatchCheckpoint(watchResourceVersion: string, counts: RunCounts): Promise<void>
  markNeedsRelist(reason: string): Promise<void>
  recordError(message: string): Promise<void>
  /** True when this owner now holds the lease (taken, renewed, or taken over after expiry). */
  acquireLease(owner: string, ttlMs: number): Promise<boolean>
  releaseLease(owner: string): Promise<void>
}

export interface MongoStoreOptions {
  readonly config: Pick<
    Config,
    'clusterName' | 'bulkWrite' | 'features' | 'retry' | 'breaker' | 'pacing'
  >
  /** SYNC_SECRET_DATA and the HMAC key (resolved from Secrets Manager when configured). */
  readonly secrets: { readonly syncData: boolean; readonly hashKey: string | undefined }
}

/** The orchestration's view of one (cluster, resource) in MongoDB, over lib/store. */
export function mongoResourceStore(
  db: Db,
  resolved: ResolvedResource,
  options: MongoStoreOptions,
): ResourceStore {
  const cluster = options.config.clusterName
  const resource = resolved.ref.id
  const collection = db.collection<InventoryDocument>(collectionNameOf(resolved.ref))
  const checkpoints = checkpointsFor(db, cluster, resolved.ref)
  const stateId = stateIdOf(cluster, resolved.ref)
  const mapping = {
    cluster,
    apiVersion: resolved.apiVersion,
    kind: resolved.kind,
    secrets: options.secrets,
  }
  const deadLetters = new DeadLetterTracker(db, cluster, resource)

  // Every call goes through MongoDB's breaker: once it is open, the rest of
  // the run fails at once instead of waiting out server selection per call.
  const guard = <T>(fn: () => Promise<T>): Promise<T> =>
    guarded('mongodb', fn, { config: options.config })

  // Where reading the index from the collection is slow (see version-snapshot.ts),
  // a snapshot stands in for it. Every write call stamps a fresh write token
  // first, so a snapshot saved earlier is void; one saved later is taken under
  // the token of this store's last write.
  const usesSnapshot = async () => !(await serverProfileOf(db)).atomicConditionalWrites
  let lastToken: string | undefined
  // The stored snapshot already says what the collection holds (loaded valid, or saved, and no write since).
  let snapshotCurrent = false
  const stamp = async (signal?: AbortSignal): Promise<string> => {
    snapshotCurrent = false
    lastToken = await retryWithBackoff(
      () => guard(() => stampWrites(db, stateId)),
      `write token for ${resource}`,
      { policy: options.config.retry, ...(signal ? { signal } : {}) },
    )
    return lastToken
  }

  return {
    ensureIndexes: () =>
      guard(async () => {
        await ensureIndexes(db.collection(collection.collectionName))
        await ensureIndexes(db.collection(DEAD_LETTER_COLLECTION), deadLetterIndexes)
      }),
    loadVersions: (namespaces?: readonly string[]) =>
      guard(async () => {
        let index: Map<string, string> | undefined
        if (!namespaces && (await usesSnapshot())) index = await loadVersionSnapshot(db, stateId)
        snapshotCurrent = index !== undefined
        index ??= await loadVersionIndex(
          collection,
          namespaces ? { cluster, namespaces } : { cluster },
        )
        // A dead-lettered object is never up to date: the diff writes it again.
        await deadLetters.markForRetry(index)
        return index
      }),
    saveVersions: (versions: ReadonlyMap<string, string>) =>
      guard(async () => {
        if (snapshotCurrent || !(await usesSnapshot())) return
        await saveVersionSnapshot(db, stateId, lastToken ?? (await stamp()), versions)
        snapshotCurrent = true
      }),
    async write(
      ops: WriteOp[],
      signal?: AbortSignal,
      source: DeadLetterSource = 'reconcile',
    ): Promise<WriteCounts> {
      // Guarded per chunk attempt inside writeChunked.
      if (ops.length > 0 && (await guard(usesSnapshot))) await stamp(signal)
      const result = await writeChunked(collection, ops, {
        resource,
        mapping,
        db,
        config: options.config,
        deadLetters: deadLetters.forSource(source),
        ...(signal ? { signal } : {}),
      })
      if (result.aborted) {
        // Some chunks never started: whatever depends on this write (deletes, the checkpoint) must not run.
        throw new DeadlineError(
          `bulk write for ${resource} stopped by the deadline: ${result.notStarted} of ${result.total} operations not started`,
          { context: { resource, chunks: result.chunks } },
        )
      }
      return result
    },
    pruneDeadLetters: (seen, namespaces) =>
      guard(() => deadLetters.pruneNotListed(seen, namespaces)),
    pruneTombstones: (listResourceVersion: string) =>
      guard(() => pruneTombstones(db, cluster, resource, listResourceVersion)).then(
        () => undefined,
      ),
    getState: async () => (await guard(() => checkpoints.getState())) ?? undefined,
    saveListCheckpoint: (rv, counts) => guard(() => checkpoints.saveListCheckpoint(rv, counts)),
    saveWatchCheckpoint: (rv, counts) => guard(() => checkpoints.saveWatchCheckpoint(rv, counts)),
    markNeedsRelist: (reason) => guard(() => checkpoints.markNeedsRelist(reason)),
    recordError: (message) => guard(() => checkpoints.recordError(message)),
    acquireLease: (owner, ttlMs) => guard(() => acquireLease(db, stateId, owner, ttlMs)),
    releaseLease: (owner) => guard(() => releaseLease(db, stateId, owner)).then(() => undefined),
  }
}
