import type { KubeObject, RefusedObject } from '../../../lib/kube/types.js'
import { areComparable, isNewer } from '../../../lib/store/documents/resource-version.js'
import { coalesceOps } from '../../../lib/store/writes/coalesce-ops.js'
import { mayDelete } from '../../../lib/store/writes/protocol/slow-path.js'
import type { WriteCounts, WriteOp } from '../../../lib/store/writes/write-op.js'
import { emptyCounts } from '../../../lib/store/writes/write-op.js'
import { DEAD_LETTERED_VERSION } from '../../../lib/store/bookkeeping/dead-letter-tracker.js'
import type { DeadLetterSource } from '../../../lib/store/bookkeeping/dead-letters.js'
import type { LeaseAnswer } from '../../../lib/store/bookkeeping/lease.js'
import type { ResourceStore } from '../../../lib/store/resource-store.js'
import type {
  RunCounts,
  SyncState,
  VersionReset,
} from '../../../lib/store/bookkeeping/sync-state.js'
import { UNKNOWN_VERSION } from '../../../lib/store/bookkeeping/version-reset.js'
/*
 * FakeStore: an in-memory ResourceStore that enforces the real store's rules,
 * so a sync test that breaks one fails here, not only against the stack.
 *
 * Writes follow lib/store/writes/protocol/apply-chunk.ts and slow-path.ts as
 * they run on MongoDB (atomic conditional writes):
 *  - one op per uid per call (coalesceOps: a delete wins, else the last write);
 *    the superseded ops count as skippedByGuard;
 *  - every delete writes its tombstone first, keeping the highest version;
 *  - insert: absent -> stored, unless tombstoned (skipped: no resurrection);
 *    stored -> the slow path;
 *  - replace: a compare-and-swap on expectedResourceVersion; no match -> the
 *    slow path, except that a replace finding its own version stored counts as
 *    updated (applyReplaces cannot tell that from its own write);
 *  - upsert (watch): absent -> insert (tombstone rule); stored older -> replace;
 *    same or newer -> skipped;
 *  - slow path (settle): absent and tombstoned -> skipped; absent -> insert;
 *    stored older -> replace; same or newer -> skipped (never regress);
 *  - delete: without expectedResourceVersion, whatever is stored goes; with it,
 *    only while that version is stored, else settleDelete: a stored version
 *    newer than deletedAtResourceVersion is kept (mayDelete), others go. A
 *    delete that finds nothing stored counts as deleted, as applyDeletes does.
 * Read-then-write servers (FerretDB) count those last two cases, and a replace
 * finding its own version, as skipped instead; this fake counts as MongoDB.
 *
 * `refuse` holds the uids the server refuses whenever a write of them is sent
 * (a guard that skips sends nothing): dead-lettered, counted deadLettered,
 * never stored. Any other outcome clears the uid's dead letter, and
 * loadVersions reports a dead-lettered stored uid at DEAD_LETTERED_VERSION
 * (dead-letter-tracker.ts), so the diff writes it again.
 *
 * The lease follows lib/store/bookkeeping/lease.ts: acquireLease succeeds when
 * there is none, it expired (by `now`), or it is the owner's; renewLease only
 * while it is the owner's and live; a refusal names the holder and its expiry.
 * releaseLease frees only the owner's own lease.
 *
 * Every method that writes (write, saveVersions, pruneDeadLetters,
 * pruneTombstones, the checkpoints, markNeedsRelist, recordError,
 * resetVersions) throws
 * without a live lease: every real caller runs inside withLease
 * (lib/sync/reconcile-run.ts, watch-run.ts; a dry run only reads), and the
 * store counts on one writer per resource (slow-path.ts MAX_ROUNDS,
 * DeadLetterTracker). Limit: those methods carry no owner, so "held" means
 * that some owner holds a live lease, not necessarily the caller.
 *
 * resetVersions follows lib/store/bookkeeping/version-reset.ts: it marks
 * `state.versionReset` (saveListCheckpoint clears it; `forgotten` unless
 * namespaced), drops the tombstones whose version is decimal and above the
 * list's, and sets every stored version (of the namespaces) to UNKNOWN_VERSION.
 *
 * Tests may seed `docs`, `tombstones` and `deadLetters` directly. A tombstone
 * seeded without a version in `tombstoneVersions` outlives every list (never
 * pruned). A namespaced loadVersions throws on a stored uid whose namespace
 * it does not know (written documents record theirs; seed `namespaceOf`).
 */

type Outcome = 'inserted' | 'updated' | 'deleted' | 'skipped' | 'rejected'

export interface FakeStoreOptions {
  /** The lease's clock, in ms (Date.now, read at each call, so fake timers drive it too). */
  readonly now?: () => number
}

export class FakeStore implements ResourceStore {
  /** uid -> stored resourceVersion: the inventory collection. */
  docs = new Map<string, string>()
  /** uid -> namespace (null: cluster-scoped) of stored documents, for namespaced loads. */
  namespaceOf = new Map<string, string | null>()
  /** uids with a tombstone (sync_tombstones), and the version each is gone at where known. */
  tombstones = new Set<string>()
  tombstoneVersions = new Map<string, string>()
  state: Partial<SyncState> = {}
  writes: WriteOp[][] = []
  checkpoints: string[] = []
  lease: { owner: string; expiresAt: number } | undefined
  failWritesAfter = Infinity
  /** uids the "server" refuses: dead-lettered, never stored. */
  refuse = new Set<string>()
  /** uids dead-lettered so far, with their failures (the fake's sync_dead_letters). */
  deadLetters = new Map<string, number>()
  /** Namespace of each dead letter (null or absent: none known, as for a delete's). */
  deadLetterNamespaces = new Map<string, string | null>()
  savedVersions: Array<Map<string, string>> = []
  prunedDeadLetters: Array<ReadonlySet<string>> = []
  readonly now: () => number

  constructor(options: FakeStoreOptions = {}) {
    this.now = options.now ?? (() => Date.now())
  }

  ensureIndexes() {
    return Promise.resolve()
  }
  loadVersions(namespaces?: readonly string[]) {
    return promised(() => {
      const index = new Map<string, string>()
      for (const [uid, rv] of this.docs) {
        if (namespaces && !this.inNamespaces(uid, namespaces)) continue
        index.set(uid, this.deadLetters.has(uid) ? DEAD_LETTERED_VERSION : rv)
      }
      return index
    })
  }
  saveVersions(versions: ReadonlyMap<string, string>) {
    return promised(() => {
      this.requireLease('saveVersions')
      this.savedVersions.push(new Map(versions))
    })
  }
  write(ops: WriteOp[], _signal?: AbortSignal, _source?: DeadLetterSource): Promise<WriteCounts> {
    return promised(() => {
      this.requireLease('write')
      if (this.writes.length >= this.failWritesAfter) throw new Error('write failed')
      this.writes.push(ops)
      const { ops: coalesced, superseded } = coalesceOps(ops)
      const counts = emptyCounts()
      counts.skippedByGuard += superseded
      // A chunk writes its tombstones before any other step (apply-chunk.ts).
      for (const op of coalesced)
        if (op.type === 'delete') this.raiseTombstone(op.uid, op.deletedAtResourceVersion)
      for (const op of coalesced) this.count(counts, op, this.apply(op))
      return counts
    })
  }
  /** Refused objects are dead-lettered by their key, like a refused write. */
  recordRefused(refused: readonly RefusedObject[], _source: DeadLetterSource): Promise<number> {
    return promised(() => {
      this.requireLease('recordRefused')
      for (const r of refused) {
        this.deadLetters.set(r.key, (this.deadLetters.get(r.key) ?? 0) + 1)
        this.deadLetterNamespaces.set(r.key, r.namespace ?? null)
      }
      return refused.length
    })
  }
  pruneTombstones(listResourceVersion: string) {
    return promised(() => {
      this.requireLease('pruneTombstones')
      for (const uid of this.tombstones) {
        const rv = this.tombstoneVersions.get(uid)
        if (rv === undefined || isNewer(rv, listResourceVersion)) continue
        this.tombstones.delete(uid)
        this.tombstoneVersions.delete(uid)
      }
    })
  }
  pruneDeadLetters(seen: ReadonlySet<string>, namespaces?: readonly string[]) {
    return promised(() => {
      this.requireLease('pruneDeadLetters')
      this.prunedDeadLetters.push(new Set(seen))
      for (const uid of this.deadLetters.keys()) {
        const namespace = this.deadLetterNamespaces.get(uid) ?? null
        const inScope = !namespaces || (namespace !== null && namespaces.includes(namespace))
        if (seen.has(uid) || !inScope) continue
        this.deadLetters.delete(uid)
        this.deadLetterNamespaces.delete(uid)
      }
    })
  }
  getState(): Promise<SyncState> {
    return Promise.resolve({
      _id: 'c/v1/configmaps',
      cluster: 'c',
      resource: 'v1/configmaps',
      ...this.state,
    })
  }
  saveListCheckpoint(rv: string, counts: RunCounts) {
    return this.setState('saveListCheckpoint', `list:${rv}`, {
      listResourceVersion: rv,
      watchResourceVersion: rv,
      lastFullSyncAt: new Date(this.now()),
      needsRelist: false,
      relistReason: null,
      lastError: null,
      lastListCounts: counts,
      versionReset: null,
    })
  }
  saveWatchCheckpoint(rv: string, counts: RunCounts) {
    return this.setState('saveWatchCheckpoint', `watch:${rv}`, {
      watchResourceVersion: rv,
      lastWatchAt: new Date(this.now()),
      lastError: null,
      lastWatchCounts: counts,
    })
  }
  markNeedsRelist(reason: string) {
    return this.setState('markNeedsRelist', undefined, { needsRelist: true, relistReason: reason })
  }
  recordError(message: string) {
    return this.setState('recordError', undefined, {
      lastError: { message, at: new Date(this.now()) },
    })
  }
  resetVersions(
    reset: Pick<VersionReset, 'listResourceVersion' | 'checkpoint'>,
    namespaces?: readonly string[],
  ) {
    return promised(() => {
      this.requireLease('resetVersions')
      const at = new Date(this.now())
      this.state = { ...this.state, versionReset: { ...reset, forgotten: !namespaces, at } }
      const listed = reset.listResourceVersion
      for (const [uid, rv] of this.tombstoneVersions) {
        if (!areComparable(rv, listed) || !isNewer(rv, listed)) continue
        this.tombstones.delete(uid)
        this.tombstoneVersions.delete(uid)
      }
      for (const uid of this.docs.keys())
        if (!namespaces || this.inNamespaces(uid, namespaces)) this.docs.set(uid, UNKNOWN_VERSION)
    })
  }
  acquireLease(owner: string, ttlMs: number): Promise<LeaseAnswer> {
    return promised(() => {
      const now = this.now()
      if (this.lease && this.lease.expiresAt >= now && this.lease.owner !== owner)
        return this.refused()
      this.lease = { owner, expiresAt: now + ttlMs }
      return { acquired: true }
    })
  }
  renewLease(owner: string, ttlMs: number): Promise<LeaseAnswer> {
    return promised(() => {
      const now = this.now()
      if (this.lease?.owner !== owner || this.lease.expiresAt < now) return this.refused()
      this.lease = { owner, expiresAt: now + ttlMs }
      return { acquired: true }
    })
  }
  releaseLease(owner: string) {
    if (this.lease?.owner === owner) this.lease = undefined
    return Promise.resolve()
  }

  /** As lease.ts refuses: the newest claim's holder, if any, and its expiry. */
  private refused(): LeaseAnswer {
    return this.lease
      ? { acquired: false, holder: this.lease.owner, expiresAt: new Date(this.lease.expiresAt) }
      : { acquired: false, holder: null, expiresAt: null }
  }

  /** The checkpoints are plain `$set`s: safe only because the caller holds the lease (sync-state.ts). */
  private setState(operation: string, checkpoint: string | undefined, fields: Partial<SyncState>) {
    return promised(() => {
      this.requireLease(operation)
      if (checkpoint !== undefined) this.checkpoints.push(checkpoint)
      this.state = { ...this.state, ...fields }
    })
  }

  private requireLease(operation: string): void {
    const now = this.now()
    if (this.lease === undefined)
      throw new Error(`FakeStore: ${operation} without a live lease: nobody holds it`)
    if (this.lease.expiresAt < now)
      throw new Error(
        `FakeStore: ${operation} without a live lease: ${this.lease.owner}'s expired ${now - this.lease.expiresAt} ms ago`,
      )
  }

  private inNamespaces(uid: string, namespaces: readonly string[]): boolean {
    const namespace = this.namespaceOf.get(uid)
    if (namespace === undefined)
      throw new Error(`FakeStore: namespace of stored uid ${uid} unknown; seed namespaceOf`)
    return namespace !== null && namespaces.includes(namespace)
  }

  private apply(op: WriteOp): Outcome {
    if (op.type === 'delete')
      return this.delete(op.uid, op.expectedResourceVersion, op.deletedAtResourceVersion)
    const { uid, resourceVersion } = op.object.metadata
    const stored = this.docs.get(uid)
    if (op.type === 'replace') {
      if (stored !== undefined && stored === op.expectedResourceVersion)
        return this.put(op.object, 'updated')
      // The guard matched nothing: applyReplaces reads, and counts its own version as its write.
      return stored === resourceVersion ? 'updated' : this.settle(op.object)
    }
    if (stored === undefined) return this.insertUnlessTombstoned(op.object)
    if (op.type === 'insert') return this.settle(op.object) // a duplicate key
    return isNewer(resourceVersion, stored) ? this.put(op.object, 'updated') : 'skipped'
  }

  /** slow-path.ts settle: never regress, never resurrect. */
  private settle(object: KubeObject): Outcome {
    const { uid, resourceVersion } = object.metadata
    const stored = this.docs.get(uid)
    if (stored === undefined)
      return this.tombstones.has(uid) ? 'skipped' : this.insertUnlessTombstoned(object)
    return isNewer(resourceVersion, stored) ? this.put(object, 'updated') : 'skipped'
  }

  /** The insert is sent (and may be refused) before the tombstone check that undoes it. */
  private insertUnlessTombstoned(object: KubeObject): Outcome {
    if (this.refuse.has(object.metadata.uid)) return 'rejected'
    if (this.tombstones.has(object.metadata.uid)) return 'skipped'
    return this.put(object, 'inserted')
  }

  private put(object: KubeObject, outcome: 'inserted' | 'updated'): Outcome {
    const { uid, resourceVersion, namespace } = object.metadata
    if (this.refuse.has(uid)) return 'rejected'
    this.docs.set(uid, resourceVersion)
    this.namespaceOf.set(uid, namespace ?? null)
    return outcome
  }

  /** applyDeletes, then settleDelete where the guard matched nothing. */
  private delete(uid: string, expected: string | undefined, deletedAt: string): Outcome {
    const stored = this.docs.get(uid)
    if (stored === undefined) return 'deleted'
    if (expected !== undefined && stored !== expected && !mayDelete(stored, deletedAt))
      return 'skipped'
    this.docs.delete(uid)
    this.namespaceOf.delete(uid)
    return 'deleted'
  }

  /** writeTombstones: the highest version per uid stays. */
  private raiseTombstone(uid: string, rv: string): void {
    const known = this.tombstoneVersions.get(uid)
    if (known === undefined || isNewer(rv, known)) this.tombstoneVersions.set(uid, rv)
    this.tombstones.add(uid)
  }

  /** What writeChunked reports, and what DeadLetterTracker records or clears. */
  private count(counts: WriteCounts, op: WriteOp, outcome: Outcome): void {
    const uid = op.type === 'delete' ? op.uid : op.object.metadata.uid
    if (outcome === 'rejected') {
      counts.deadLettered++
      this.deadLetters.set(uid, (this.deadLetters.get(uid) ?? 0) + 1)
      if (op.type !== 'delete')
        this.deadLetterNamespaces.set(uid, op.object.metadata.namespace ?? null)
      return
    }
    this.deadLetters.delete(uid)
    this.deadLetterNamespaces.delete(uid)
    if (outcome === 'skipped') counts.skippedByGuard++
    else counts[outcome]++
  }
}

/** The answer of `fn` as a promise: a thrown rule violation becomes a rejection, as a store's would. */
function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}
