import type { Collection, Db } from 'mongodb'
import type { Config } from '../config.js'
import { DeadlineError } from '../errors.js'
import { redactText } from '../redact.js'
import type { SecretValuePolicy } from '../secret-policy.js'
import type { Guard } from '../resilience/circuit-breaker.js'
import type { Pacing } from './writes/adaptive-pacing.js'
import type { RefusedObject, ResolvedResource } from '../kube/types.js'
import { collectionNameOf, stateIdOf } from '../resource-ref.js'
import { writeChunked } from './writes/bulk-writer.js'
import { checkpointsFor } from './bookkeeping/sync-state.js'
import { DeadLetterTracker } from './bookkeeping/dead-letter-tracker.js'
import { recordRefused } from './bookkeeping/refused-objects.js'
import {
  DEAD_LETTER_COLLECTION,
  deadLetterIndexes,
  type DeadLetterSource,
} from './bookkeeping/dead-letters.js'
import { ensureIndexes } from './documents/indexes.js'
import {
  acquireLease,
  claimsOf,
  leaseIndexes,
  releaseLease,
  renewLease,
  type LeaseAnswer,
} from './bookkeeping/lease.js'
import { pruneTombstones, tombstoneIndexes, tombstonesOf } from './bookkeeping/tombstones.js'
import { ensureExpiry } from './bookkeeping/expiry.js'
import type { WriteCounts, WriteOp } from './writes/write-op.js'
import type { InventoryDocument } from './documents/mapper.js'
import type { RunCounts, SyncState, VersionReset } from './bookkeeping/sync-state.js'
import { forgetStoredVersions, pruneTombstonesAbove } from './bookkeeping/version-reset.js'
import { ResourceVersions } from './bookkeeping/resource-versions.js'
import { ensureHistory } from './history/history-collection.js'
import type { HistorySource } from './history/history-document.js'
import {
  recordHistory,
  type HistoryChange,
  type RecordedHistory,
  type HistoryTarget,
} from './history/history-writer.js'

/** One (cluster, resource) in MongoDB, as the sync sees it: its collection, versions, checkpoint and lease. */
export interface ResourceStore {
  /** The indexes, and the expiry of old tombstones and dead letters (bookkeeping/expiry.ts). */
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
  /**
   * `known`: stored versions read by `_id` just before, under this lease (the
   * batch's history read), used instead of reading those ids again.
   */
  write(
    ops: WriteOp[],
    signal?: AbortSignal,
    source?: DeadLetterSource,
    known?: ReadonlyMap<string, string | null>,
  ): Promise<WriteCounts>
  /**
   * Objects the Kubernetes edge refused (no usable uid, name or
   * resourceVersion): stored as dead letters, never written. Returns how many.
   */
  recordRefused(refused: readonly RefusedObject[], source: DeadLetterSource): Promise<number>
  /** After a complete list: drops the dead letters of uids it did not serve (objects gone). */
  pruneDeadLetters(seen: ReadonlySet<string>, namespaces?: readonly string[]): Promise<void>
  /**
   * A complete list at `listResourceVersion` supersedes older tombstones (and,
   * of opaque versions, those written before the list started: the last
   * loadVersions, tombstones.ts supersededBy).
   */
  pruneTombstones(listResourceVersion: string): Promise<void>
  getState(): Promise<SyncState | undefined>
  saveListCheckpoint(listResourceVersion: string, counts: RunCounts): Promise<void>
  saveWatchCheckpoint(watchResourceVersion: string, counts: RunCounts): Promise<void>
  markNeedsRelist(reason: string): Promise<void>
  recordError(message: string): Promise<void>
  /**
   * The cluster's versions went back (a restore, docs/design.md#restored-clusters):
   * marks the reset in sync_state, prunes the tombstones above the new list's
   * version and forgets the stored versions (of these namespaces), so that the
   * list rewrites in full what it serves (bookkeeping/version-reset.ts); then,
   * for the whole resource, marks them forgotten.
   */
  resetVersions(
    reset: Pick<VersionReset, 'listResourceVersion' | 'checkpoint'>,
    namespaces?: readonly string[],
    signal?: AbortSignal,
  ): Promise<void>
  /** Acquired when this owner now holds the lease (taken, or taken over after expiry); else who holds it. */
  acquireLease(owner: string, ttlMs: number): Promise<LeaseAnswer>
  /** Extends this owner's live lease; refused when it expired or was taken over (bookkeeping/lease.ts). */
  renewLease(owner: string, ttlMs: number): Promise<LeaseAnswer>
  releaseLease(owner: string): Promise<void>
  /**
   * Present only for a resource under HISTORY_RESOURCES: records observed
   * versions in object_history (lib/store/history/), to be called before the
   * inventory writes of the same versions. A resource without history has no
   * such method and pays nothing.
   */
  recordHistory?(
    changes: readonly HistoryChange[],
    source: HistorySource,
    signal?: AbortSignal,
  ): Promise<RecordedHistory>
}

export interface MongoStoreOptions {
  readonly config: Pick<
    Config,
    | 'clusterName'
    | 'bulkWrite'
    | 'features'
    | 'retry'
    | 'breaker'
    | 'pacing'
    | 'bookkeepingTtl'
    | 'history'
  >
  /** SECRET_MODE, the HMAC key (resolved from Secrets Manager when configured), the annotation allowlist. */
  readonly secrets: SecretValuePolicy
  /**
   * MongoDB's circuit breaker: every call goes through it, so once it is open
   * the rest of the run fails at once instead of waiting out server selection
   * per call. The container's, kept across warm invocations.
   */
  readonly guard: Guard
  /** The container's adaptive pacing of bulk writes. */
  readonly pacing: Pacing
}

/**
 * The orchestration's view of one (cluster, resource) in MongoDB, over
 * lib/store. Longer than a screen on purpose: a flat table of one-line
 * methods, one per ResourceStore method, each naming the module that does it.
 */
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
  const deadLetters = new DeadLetterTracker(db, cluster, resource)
  const { guard } = options
  const retry = options.config.retry
  const versions = new ResourceVersions({
    db,
    collection,
    cluster,
    stateId,
    resource,
    retry,
    guard,
  })
  const history = options.config.history.resources.some((ref) => ref.id === resource)
  const writer: StoreWriter = { db, collection, resolved, options, versions, deadLetters, history }
  // When the current list pass started: a pass loads its versions before its first page.
  let listStartedAt: Date | undefined

  return {
    ensureIndexes: () =>
      guard(async () => {
        await ensureIndexes(db.collection(collection.collectionName))
        await ensureIndexes(db.collection(DEAD_LETTER_COLLECTION), deadLetterIndexes)
        await ensureIndexes(tombstonesOf(db), tombstoneIndexes)
        await ensureIndexes(claimsOf(db), leaseIndexes)
        await ensureExpiry(db, options.config.bookkeepingTtl)
        if (history) await ensureHistory(db, options.config.history.retentionDays)
      }),
    loadVersions: (namespaces?: readonly string[]) =>
      guard(async () => {
        listStartedAt = new Date()
        const index = await versions.load(namespaces)
        // A dead-lettered object is never up to date: the diff writes it again.
        await deadLetters.markForRetry(index)
        return index
      }),
    saveVersions: (index: ReadonlyMap<string, string>) => guard(() => versions.save(index)),
    write: (ops, signal, source = 'reconcile', known) => write(writer, ops, signal, source, known),
    recordRefused: (refused, source) =>
      guard(() => recordRefused(db, { cluster, resource, source }, refused)),
    pruneDeadLetters: (seen, namespaces) =>
      guard(() => deadLetters.pruneNotListed(seen, namespaces)),
    pruneTombstones: (listResourceVersion: string) =>
      guard(() =>
        pruneTombstones(db, cluster, resource, {
          resourceVersion: listResourceVersion,
          ...(listStartedAt ? { startedAt: listStartedAt } : {}),
        }),
      ).then(() => undefined),
    getState: async () => (await guard(() => checkpoints.getState())) ?? undefined,
    saveListCheckpoint: (rv, counts) => guard(() => checkpoints.saveListCheckpoint(rv, counts)),
    saveWatchCheckpoint: (rv, counts) => guard(() => checkpoints.saveWatchCheckpoint(rv, counts)),
    // Stored text is redacted here too, whoever wrote it (docs/security.md#what-is-redacted-where).
    markNeedsRelist: (reason) => guard(() => checkpoints.markNeedsRelist(redactText(reason))),
    recordError: (message) => guard(() => checkpoints.recordError(redactText(message))),
    resetVersions: async (reset, namespaces, signal) => {
      // A write behind the version index's back: any snapshot saved so far is void first.
      await versions.voidSnapshot(signal)
      await guard(() => checkpoints.markVersionReset({ ...reset, forgotten: false }))
      await guard(() => pruneTombstonesAbove(db, cluster, resource, reset.listResourceVersion))
      await guard(() => forgetStoredVersions(collection, cluster, namespaces))
      // Only a whole-resource reset leaves no version of the lost timeline behind.
      if (!namespaces)
        await guard(() => checkpoints.markVersionReset({ ...reset, forgotten: true }))
    },
    acquireLease: (owner, ttlMs) => guard(() => acquireLease(db, stateId, owner, ttlMs)),
    renewLease: (owner, ttlMs) => guard(() => renewLease(db, stateId, owner, ttlMs)),
    releaseLease: (owner) => guard(() => releaseLease(db, stateId, owner)).then(() => undefined),
    ...(history ? { recordHistory: historyRecorder(writer) } : {}),
  }
}

/** What a store's write calls share. */
interface StoreWriter {
  readonly db: Db
  readonly collection: Collection<InventoryDocument>
  readonly resolved: ResolvedResource
  readonly options: MongoStoreOptions
  readonly versions: ResourceVersions
  readonly deadLetters: DeadLetterTracker
  /** The resource is under HISTORY_RESOURCES. */
  readonly history: boolean
}

/** What the inventory's writes map objects with: the same for history (history-document.ts). */
function mappingOf(writer: StoreWriter) {
  const { resolved, options } = writer
  return {
    cluster: options.config.clusterName,
    apiVersion: resolved.apiVersion,
    kind: resolved.kind,
    secrets: options.secrets,
    ...(writer.history ? { history: true } : {}),
  }
}

/** recordHistory of a resource under history: chunked and paced like the writer, retried through the breaker. */
function historyRecorder(writer: StoreWriter): NonNullable<ResourceStore['recordHistory']> {
  const { options } = writer
  const target: HistoryTarget = {
    db: writer.db,
    inventory: writer.collection,
    mapping: mappingOf(writer),
    resource: writer.resolved.ref.id,
    batchSize: options.config.bulkWrite.batchSize,
    retry: options.config.retry,
    guard: options.guard,
    pacing: options.pacing,
  }
  return (changes, source, signal) => recordHistory(target, changes, source, signal)
}

/** One write call: chunked, guarded per chunk attempt (bulk-writer.ts); all of it, or an error. */
async function write(
  writer: StoreWriter,
  ops: WriteOp[],
  signal: AbortSignal | undefined,
  source: DeadLetterSource,
  known: ReadonlyMap<string, string | null> | undefined,
): Promise<WriteCounts> {
  const { resolved, options } = writer
  const resource = resolved.ref.id
  await writer.versions.beforeWrite(ops.map(writtenBy), signal)
  const result = await writeChunked(writer.collection, ops, {
    resource,
    mapping: mappingOf(writer),
    db: writer.db,
    config: options.config,
    guard: options.guard,
    pacing: options.pacing,
    deadLetters: writer.deadLetters.forSource(source),
    ...(signal ? { signal } : {}),
    ...(known ? { knownVersions: known } : {}),
  })
  if (result.aborted) {
    // Some chunks never started: whatever depends on this write (deletes, the checkpoint) must not run.
    throw new DeadlineError(
      `bulk write for ${resource} stopped by the deadline: ${result.notStarted} of ${result.total} operations not started`,
      { context: { resource, chunks: result.chunks } },
    )
  }
  return result
}

/** The object a write changes, as the version journal records it. */
function writtenBy(op: WriteOp): { uid: string; namespace?: string | null } {
  if (op.type === 'delete') return { uid: op.uid }
  return { uid: op.object.metadata.uid, namespace: op.object.metadata.namespace ?? null }
}
