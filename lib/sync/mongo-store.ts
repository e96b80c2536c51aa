import type { Db } from 'mongodb'
import type { Config } from '../config.js'
import { DeadlineError } from '../errors.js'
import { guarded } from '../resilience/circuit-breaker.js'
import type { ResolvedResource } from '../kube/types.js'
import { collectionNameOf, stateIdOf } from '../resource-ref.js'
import { writeChunked } from '../store/bulk-writer.js'
import { checkpointsFor } from '../store/checkpoints.js'
import { DeadLetterTracker } from '../store/dead-letter-tracker.js'
import {
  DEAD_LETTER_COLLECTION,
  deadLetterIndexes,
  type DeadLetterSource,
} from '../store/dead-letters.js'
import { ensureIndexes } from '../store/indexes.js'
import { acquireLease, releaseLease } from '../store/lease.js'
import { pruneTombstones } from '../store/tombstones.js'
import type { InventoryDocument, WriteCounts, WriteOp } from '../store/types.js'
import { loadVersionIndex } from '../store/version-index.js'
import type { ResourceStore } from './ports.js'

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

  return {
    ensureIndexes: () =>
      guard(async () => {
        await ensureIndexes(db.collection(collection.collectionName))
        await ensureIndexes(db.collection(DEAD_LETTER_COLLECTION), deadLetterIndexes)
      }),
    loadVersions: (namespaces?: readonly string[]) =>
      guard(async () => {
        const index = await loadVersionIndex(
          collection,
          namespaces ? { cluster, namespaces } : { cluster },
        )
        // A dead-lettered object is never up to date: the diff writes it again.
        await deadLetters.markForRetry(index)
        return index
      }),
    async write(
      ops: WriteOp[],
      signal?: AbortSignal,
      source: DeadLetterSource = 'reconcile',
    ): Promise<WriteCounts> {
      // Guarded per chunk attempt inside writeChunked.
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
