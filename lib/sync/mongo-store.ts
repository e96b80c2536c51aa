import type { Db } from 'mongodb'
import type { Config } from '../config.js'
import { DeadlineError } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { collectionNameOf, stateIdOf } from '../resource-ref.js'
import { writeChunked } from '../store/bulk-writer.js'
import { checkpointsFor } from '../store/checkpoints.js'
import { ensureIndexes } from '../store/indexes.js'
import { acquireLease, releaseLease } from '../store/lease.js'
import { pruneTombstones } from '../store/tombstones.js'
import type { InventoryDocument, WriteCounts, WriteOp } from '../store/types.js'
import { serverProfileOf } from '../store/server-profile.js'
import { loadVersionIndex } from '../store/version-index.js'
import { loadVersionSnapshot, saveVersionSnapshot, stampWrites } from '../store/version-snapshot.js'
import { retryWithBackoff } from '../retry.js'
import type { ResourceStore } from './ports.js'

export interface MongoStoreOptions {
  readonly config: Pick<Config, 'clusterName' | 'bulkWrite' | 'features' | 'retry'>
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
      () => stampWrites(db, stateId),
      `write token for ${resource}`,
      { policy: options.config.retry, ...(signal ? { signal } : {}) },
    )
    return lastToken
  }

  return {
    ensureIndexes: () => ensureIndexes(db.collection(collection.collectionName)),
    async loadVersions(namespaces?: readonly string[]) {
      if (!namespaces && (await usesSnapshot())) {
        const snapshot = await loadVersionSnapshot(db, stateId)
        if (snapshot) {
          snapshotCurrent = true
          return snapshot
        }
      }
      snapshotCurrent = false
      return loadVersionIndex(collection, namespaces ? { cluster, namespaces } : { cluster })
    },
    async saveVersions(versions: ReadonlyMap<string, string>) {
      if (snapshotCurrent || !(await usesSnapshot())) return
      await saveVersionSnapshot(db, stateId, lastToken ?? (await stamp()), versions)
      snapshotCurrent = true
    },
    async write(ops: WriteOp[], signal?: AbortSignal): Promise<WriteCounts> {
      if (ops.length > 0 && (await usesSnapshot())) await stamp(signal)
      const result = await writeChunked(collection, ops, {
        resource,
        mapping,
        db,
        config: options.config,
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
    pruneTombstones: async (listResourceVersion: string) => {
      await pruneTombstones(db, cluster, resource, listResourceVersion)
    },
    getState: async () => (await checkpoints.getState()) ?? undefined,
    saveListCheckpoint: (rv, counts) => checkpoints.saveListCheckpoint(rv, counts),
    saveWatchCheckpoint: (rv, counts) => checkpoints.saveWatchCheckpoint(rv, counts),
    markNeedsRelist: (reason) => checkpoints.markNeedsRelist(reason),
    recordError: (message) => checkpoints.recordError(message),
    acquireLease: (owner, ttlMs) => acquireLease(db, stateId, owner, ttlMs),
    releaseLease: async (owner) => {
      await releaseLease(db, stateId, owner)
    },
  }
}
