import type { Collection, Db } from 'mongodb'
import { notTransient } from '../../classify.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import { serverProfileOf } from '../connection/server-profile.js'
import type { InventoryDocument } from '../documents/mapper.js'
import { loadVersionIndex } from './version-index.js'
import { loadVersionSnapshot, saveVersionSnapshot, stampWrites } from './version-snapshot.js'

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
 * One resource's version index (uid -> stored resourceVersion), read from the
 * collection or, where that is slow (version-snapshot.ts), from a snapshot.
 * Every write call stamps a fresh write token first (beforeWrite), so a
 * snapshot saved earlier is void; one saved later is taken under the token of
 * this store's last write.
 */
export class ResourceVersions {
  readonly #options: ResourceVersionsOptions
  #lastToken: string | undefined
  /** The stored snapshot already says what the collection holds (loaded valid, or saved, and no write since). */
  #snapshotCurrent = false

  constructor(options: ResourceVersionsOptions) {
    this.#options = options
  }

  /** The whole resource's index, or the given namespaces' (read from the collection). */
  async load(namespaces?: readonly string[]): Promise<Map<string, string>> {
    const { db, stateId, collection, cluster } = this.#options
    let index: Map<string, string> | undefined
    if (!namespaces && (await this.#usesSnapshot())) index = await loadVersionSnapshot(db, stateId)
    this.#snapshotCurrent = index !== undefined
    return (
      index ??
      (await loadVersionIndex(collection, namespaces ? { cluster, namespaces } : { cluster }))
    )
  }

  /** Keeps the index of a pass that wrote exactly what it planned, where snapshots are used. */
  async save(versions: ReadonlyMap<string, string>): Promise<void> {
    if (this.#snapshotCurrent || !(await this.#usesSnapshot())) return
    const { db, stateId } = this.#options
    await saveVersionSnapshot(db, stateId, this.#lastToken ?? (await this.#stamp()), versions)
    this.#snapshotCurrent = true
  }

  /** Before a write call: voids any snapshot saved so far. */
  async beforeWrite(signal?: AbortSignal): Promise<void> {
    if (await this.#options.guard(() => this.#usesSnapshot())) await this.#stamp(signal)
  }

  /** FerretDB (no atomic conditional writes, server-profile.ts) is where reading the collection is slow. */
  async #usesSnapshot(): Promise<boolean> {
    return !(await serverProfileOf(this.#options.db)).atomicConditionalWrites
  }

  async #stamp(signal?: AbortSignal): Promise<string> {
    const { db, stateId, resource, retry, guard } = this.#options
    this.#snapshotCurrent = false
    this.#lastToken = await retryWithBackoff(
      () => guard(() => stampWrites(db, stateId)),
      `write token for ${resource}`,
      { policy: retry, isFatal: notTransient, ...(signal ? { signal } : {}) },
    )
    return this.#lastToken
  }
}
