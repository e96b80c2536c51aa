import type { ListPage, ResolvedResource, WatchEvent } from '../kube/types.js'
import type { ResourceRef } from '../resource-ref.js'
import type { DeadLetterSource } from '../store/bookkeeping/dead-letters.js'
import type { WriteCounts, WriteOp } from '../store/writes/write-op.js'

/*
 * What the orchestration needs from Kubernetes and MongoDB, as small
 * interfaces: the real adapters live in kube-port.ts and store-port.ts; unit
 * tests pass fakes.
 */

export interface SyncState {
  readonly listResourceVersion?: string | null
  readonly watchResourceVersion?: string | null
  readonly needsRelist?: boolean
  readonly lastFullSyncAt?: Date | null
  readonly lastWatchAt?: Date | null
  readonly lastError?: { readonly message: string; readonly at: Date } | null
}

export interface RunCounts {
  readonly [name: string]: number
}

/** One (cluster, resource) in MongoDB: its collection, versions, checkpoint and lease. */
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

export interface ListOptions {
  readonly namespaces?: readonly string[]
  readonly signal: AbortSignal
  /** Called when a 410 leaves the choice between restarting and an inconsistent continue. */
  readonly allowInconsistentContinue: () => boolean
}

export type WatchOutcome = 'window-ended' | 'expired' | 'deadline' | 'failed'

export interface WatchWindowResult {
  readonly outcome: WatchOutcome
  readonly events: number
  readonly bookmarks: number
  readonly reconnects: number
  readonly lastResourceVersion: string
  readonly error?: unknown
}

export interface WatchOptions {
  readonly fromResourceVersion: string
  readonly windowEndsAt: number
  readonly signal: AbortSignal
}

/** The Kubernetes side: discovery, a paginated list pass, a bounded watch window. */
export interface ClusterSource {
  resolve(ref: ResourceRef, signal?: AbortSignal): Promise<ResolvedResource>
  listPages(resolved: ResolvedResource, options: ListOptions): AsyncIterable<ListPage>
  /** Yields events in order; returns the window's result when it ends. */
  watch(
    resolved: ResolvedResource,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, WatchWindowResult>
}
