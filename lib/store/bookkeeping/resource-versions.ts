import type { Collection, Db } from 'mongodb'
import { notTransient } from '../../classify.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import { serverProfileOf } from '../connection/server-profile.js'
import type { InventoryDocument } from '../documents/mapper.js'
import {
  amendIndex,
  inNamespaces,
  loadVersionIndex,
  loadVersionsByUid,
  type StoredIndex,
} from './version-index.js'
import { stateCollectionOf } from './sync-state.js'
import {
  appendJournal,
  loadVersionSnapshot,
  readToken,
  saveVersionSnapshot,
  stampWrites,
  type TokenDocument,
} from './version-snapshot.js'

export interface ResourceVersionsOptions {
  readonly db: Db
  readonly collection: Collection<InventoryDocument>
  readonly cluster: string
  /** The resource's sync_state `_id`: the scope of its snapshot and write token. */
  readonly stateId: string
  /** ResourceRef id, for the retry's log lines. */
  readonly resource: string
  readonly retry: RetryPolicy
  /** Runs one MongoDB call through its breaker. */
  readonly guard: <T>(fn: () => Promise<T>) => Promise<T>
}

/**
 * Past this many uids written since the snapshot, a load would spend longer
 * looking them up one by one than a complete reconcile takes to save a new
 * snapshot: the journal is dropped instead (the snapshot voided), and loads
 * read the collection until the next save.
 */
const MAX_JOURNALED_UIDS = 5000
/** Past this many write calls since the snapshot, the same (each entry is one more look-up). */
const MAX_JOURNAL_ENTRIES = 500
/**
 * A whole-resource load reads the collection itself once the snapshot's
 * contents were last read from it longer ago than this, so an edit made
 * behind the sync's back (a document deleted by hand) is seen within a day.
 */
const SNAPSHOT_MAX_AGE_MS = 24 * 60 * 60_000

/** The fields of a sync_state document that only the lease mirror wrote. */
const leaseOnly = new Set(['_id', 'lease'])

/** What this store knows of the stored snapshot. */
type SnapshotState =
  /** Not read yet. */
  | { readonly kind: 'unknown' }
  /** No token and no sync_state: the sync never wrote the resource, so nothing is stored. */
  | { readonly kind: 'never-written' }
  /** A token whose snapshot is whole: writes are journaled against it. */
  | { readonly kind: 'valid'; readonly token: TokenDocument }
  /** A token without a whole snapshot: nothing to keep up to date until the next save. */
  | { readonly kind: 'void'; readonly token: TokenDocument }

/**
 * One resource's version index (uid -> stored resourceVersion), read from the
 * collection or, where only `_id` look-ups are cheap (ServerProfile
 * readByIdOnly), from a snapshot (version-snapshot.ts): whole or for some
 * namespaces, its cost follows the resource's own objects, not the other
 * clusters' documents in the collection. Every write call journals the uids
 * it is about to change first (beforeWrite), and a load reads those back by
 * `_id`, so the snapshot stays usable across watches and namespaced resyncs.
 */
export class ResourceVersions {
  readonly #options: ResourceVersionsOptions
  #state: SnapshotState = { kind: 'unknown' }
  /** The namespace of every uid loaded or written, for the next save. */
  readonly #namespaces = new Map<string, string | null>()
  /** The stored snapshot already says what the collection holds (loaded valid with no journal, or saved, and no write since). */
  #snapshotCurrent = false
  /** When what this store loaded was last read from the collection itself. */
  #readAt = new Date()

  constructor(options: ResourceVersionsOptions) {
    this.#options = options
  }

  /** The whole resource's index, or the given namespaces'. */
  async load(namespaces?: readonly string[]): Promise<Map<string, string>> {
    this.#snapshotCurrent = false
    const index = (await this.#usesSnapshot())
      ? await this.#loadBySnapshot(namespaces)
      : await this.#loadFromCollection(namespaces)
    for (const [uid, ns] of index.namespaces) this.#namespaces.set(uid, ns)
    return namespaces ? inNamespaces(index, namespaces).versions : index.versions
  }

  /** Keeps the index of a pass that wrote exactly what it planned, where snapshots are used. */
  async save(versions: ReadonlyMap<string, string>): Promise<void> {
    if (this.#snapshotCurrent || !(await this.#usesSnapshot())) return
    const { db, stateId } = this.#options
    const previous = await this.#token()
    const token = await saveVersionSnapshot(
      db,
      stateId,
      versions,
      this.#namespaces,
      previous,
      this.#readAt,
    )
    this.#state = { kind: 'valid', token }
    this.#snapshotCurrent = true
  }

  /**
   * Before a write call that changes these objects: journals their uids (and
   * namespaces, kept for the next save), so a later load reads them back
   * rather than trusting the snapshot for them.
   */
  async beforeWrite(
    written: ReadonlyArray<{ readonly uid: string; readonly namespace?: string | null }>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (written.length === 0 || !(await this.#options.guard(() => this.#usesSnapshot()))) return
    for (const { uid, namespace } of written)
      if (namespace !== undefined) this.#namespaces.set(uid, namespace)
    this.#snapshotCurrent = false
    await this.#retried(
      'version journal',
      async () => {
        const state = await this.#knownState()
        if (state.kind === 'void') return
        // Nothing stored yet: an empty snapshot is exact, and the journal then covers every write.
        const token =
          state.kind === 'valid'
            ? state.token
            : await saveVersionSnapshot(
                this.#options.db,
                this.#options.stateId,
                new Map(),
                new Map(),
                undefined,
                new Date(),
              )
        const uids = written.map((w) => w.uid)
        if (
          (token.journal ?? 0) >= MAX_JOURNAL_ENTRIES ||
          (token.journaled ?? 0) + uids.length > MAX_JOURNALED_UIDS
        ) {
          this.#state = {
            kind: 'void',
            token: await stampWrites(this.#options.db, this.#options.stateId),
          }
          return
        }
        const next = await appendJournal(this.#options.db, this.#options.stateId, token, uids)
        this.#state = { kind: 'valid', token: next }
      },
      signal,
    )
  }

  /** Before a write that changes versions without saying which (a version reset): voids any snapshot. */
  async voidSnapshot(signal?: AbortSignal): Promise<void> {
    if (!(await this.#options.guard(() => this.#usesSnapshot()))) return
    this.#snapshotCurrent = false
    await this.#retried(
      'write token',
      async () => {
        this.#state = {
          kind: 'void',
          token: await stampWrites(this.#options.db, this.#options.stateId),
        }
      },
      signal,
    )
  }

  /** Only `_id` look-ups are cheap (FerretDB 1.x, server-profile.ts): there the snapshot stands in for the index read. */
  async #usesSnapshot(): Promise<boolean> {
    return (await serverProfileOf(this.#options.db)).readByIdOnly
  }

  async #loadFromCollection(namespaces?: readonly string[]): Promise<StoredIndex> {
    const { collection, cluster } = this.#options
    this.#readAt = new Date()
    return loadVersionIndex(collection, namespaces ? { cluster, namespaces } : { cluster })
  }

  async #loadBySnapshot(namespaces?: readonly string[]): Promise<StoredIndex> {
    const { db, stateId, collection, cluster } = this.#options
    const token = await this.#token()
    if (!token) {
      if (await this.#hasState()) {
        // Snapshots deleted (by hand: they are only a cache), the resource synced before.
        this.#state = { kind: 'void', token: this.#voidToken() }
        return this.#loadFromCollection(namespaces)
      }
      this.#state = { kind: 'never-written' }
      return { versions: new Map(), namespaces: new Map() }
    }
    if (
      !namespaces &&
      (token.readAt === undefined || Date.now() - token.readAt.getTime() > SNAPSHOT_MAX_AGE_MS)
    ) {
      // Writes go on being journaled against the snapshot (namespaced loads still use it) until the save.
      this.#state = token.saved ? { kind: 'valid', token } : { kind: 'void', token }
      return this.#loadFromCollection()
    }
    const snapshot = await loadVersionSnapshot(db, stateId, token)
    if (!snapshot) {
      this.#state = { kind: 'void', token }
      return this.#loadFromCollection(namespaces)
    }
    this.#state = { kind: 'valid', token }
    this.#readAt = token.readAt!
    // Look up what the journal says changed, and, for a namespaced load, what has no known namespace.
    const uncertain = new Set(snapshot.journaled)
    if (namespaces)
      for (const uid of snapshot.versions.keys())
        if (!snapshot.namespaces.has(uid)) uncertain.add(uid)
    if (uncertain.size > 0)
      amendIndex(snapshot, uncertain, await loadVersionsByUid(collection, cluster, [...uncertain]))
    this.#snapshotCurrent = snapshot.journaled.size === 0
    return snapshot
  }

  /** The token document, read once per store (this store is the resource's only writer while it holds the lease). */
  async #token(): Promise<TokenDocument | undefined> {
    const state = this.#state
    if (state.kind === 'valid' || state.kind === 'void') return state.token
    if (state.kind === 'never-written') return undefined
    return readToken(this.#options.db, this.#options.stateId)
  }

  /** The snapshot's state, read (one look-up) when this store has not loaded it: a watch writes without loading. */
  async #knownState(): Promise<SnapshotState> {
    if (this.#state.kind !== 'unknown') return this.#state
    const { db, stateId } = this.#options
    const token = await readToken(db, stateId)
    if (!token)
      return (this.#state = (await this.#hasState())
        ? { kind: 'void', token: this.#voidToken() }
        : { kind: 'never-written' })
    // `saved` is enough here: a load checks the parts themselves before trusting them.
    this.#state = token.saved ? { kind: 'valid', token } : { kind: 'void', token }
    return this.#state
  }

  /**
   * Whether a run of the sync left a trace in the resource's sync_state (a
   * checkpoint, an error, a reset): with no write token, the one other trace,
   * so that a snapshot collection dropped by hand is never read as "nothing
   * stored". Its lease alone is no trace: taking the lease (lease.ts mirror)
   * creates the document before the first load of a resource never written,
   * and counting that would read a new cluster's index from the whole
   * collection, every other cluster's documents included.
   */
  async #hasState(): Promise<boolean> {
    const { db, stateId } = this.#options
    const state = await stateCollectionOf(db).findOne({ _id: stateId })
    return state !== null && Object.keys(state).some((field) => !leaseOnly.has(field))
  }

  /** A token no snapshot is saved under (in memory only: nothing is written by a load). */
  #voidToken(): TokenDocument {
    return { _id: `${this.#options.stateId}#token`, token: '' }
  }

  async #retried(what: string, fn: () => Promise<void>, signal?: AbortSignal): Promise<void> {
    const { resource, retry, guard } = this.#options
    await retryWithBackoff(() => guard(fn), `${what} for ${resource}`, {
      policy: retry,
      isFatal: notTransient,
      ...(signal ? { signal } : {}),
    })
  }
}
