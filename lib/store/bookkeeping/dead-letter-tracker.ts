import { isCircuitOpen } from '../../resilience/circuit-breaker.js'
import type { Db } from 'mongodb'
import { DeadlineError } from '../../errors.js'
import {
  clearDeadLetters,
  deadLetterFields,
  deadLetterIdOf,
  deadLettersOf,
  failureOfError,
  failureOfRejection,
  loadDeadLetters,
  recordFailures,
  uidOfOp,
  type DeadLetterFailure,
  type DeadLetterFields,
  type DeadLetterSource,
  type KnownDeadLetter,
} from './dead-letters.js'
import type { ChunkState } from '../writes/protocol/chunk-state.js'
import {
  logChunkUndescribed,
  logCleared,
  logPruneFailed,
  logRecorded,
  logUnrecorded,
} from './dead-letter-log.js'

/** What the bulk writer tells about each chunk (bulk-writer.ts). */
export interface ChunkDeadLetters {
  /**
   * The chunk's writes are acknowledged: clears the dead letters of the uids it
   * wrote and records its rejections. Runs inside the chunk's retry loop and
   * may throw: a rejection counts as settled only once its dead letter is
   * stored, so a chunk (and the checkpoint after it) never gets past an
   * operation that is neither written nor recorded.
   */
  chunkApplied(state: ChunkState): Promise<void>
  /** The chunk failed for good: records what it still had, best effort (never throws). */
  chunkFailed(state: ChunkState, error: unknown): Promise<void>
}

/**
 * How long recording a failed chunk may take: the chunk has failed already
 * (often because MongoDB is down), so this only bounds how long the failure
 * report waits before the operations are logged as `deadletter.unrecorded`.
 */
const RECORD_FAILED_TIMEOUT_MS = 5000

/**
 * A stored version that every served version counts as newer than (decimal
 * or opaque, see resource-version.ts): what the version index says for a
 * dead-lettered uid, so that the diff writes it again.
 */
export const DEAD_LETTERED_VERSION = '0'

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The dead letters of one (cluster, resource) for one invocation: knows which
 * uids have one (loaded once; the resource's lease makes this invocation its
 * only writer), records failures and clears what later writes settle.
 */
export class DeadLetterTracker {
  readonly #collection
  readonly #cluster: string
  readonly #resource: string
  readonly #now: () => Date
  #known: Promise<Map<string, KnownDeadLetter>> | undefined

  constructor(db: Db, cluster: string, resource: string, now: () => Date = () => new Date()) {
    this.#collection = deadLettersOf(db)
    this.#cluster = cluster
    this.#resource = resource
    this.#now = now
  }

  #load(): Promise<Map<string, KnownDeadLetter>> {
    if (!this.#known) {
      const loading = loadDeadLetters(this.#collection, this.#cluster, this.#resource)
      // A failed load (network) is not kept: the next call asks again.
      loading.catch(() => {
        if (this.#known === loading) this.#known = undefined
      })
      this.#known = loading
    }
    return this.#known
  }

  /**
   * Marks the dead-lettered uids of a version index as stored at
   * DEAD_LETTERED_VERSION, so the reconcile writes them again even when the
   * stored version equals the served one (a write acknowledged after its
   * chunk had already given up): the write protocol then reads what is really
   * stored and decides (write, skip, or reject again).
   */
  async markForRetry(index: Map<string, string>): Promise<void> {
    for (const uid of (await this.#load()).keys())
      if (index.has(uid)) index.set(uid, DEAD_LETTERED_VERSION)
  }

  forSource(source: DeadLetterSource): ChunkDeadLetters {
    return {
      chunkApplied: (state) => this.#chunkApplied(state, source),
      chunkFailed: (state, error) => this.#chunkFailed(state, error, source),
    }
  }

  async #chunkApplied(state: ChunkState, source: DeadLetterSource): Promise<void> {
    const known = await this.#load()
    const settled = state.ops
      .map((op, index) => ({ op, index, uid: uidOfOp(op) }))
      .filter(({ index, uid }) => state.done[index] && !state.rejected.has(index) && known.has(uid))
    if (settled.length > 0) {
      await clearDeadLetters(
        this.#collection,
        settled.map(({ uid }) => deadLetterIdOf(this.#cluster, this.#resource, uid)),
      )
      for (const { op, uid } of settled) {
        known.delete(uid)
        logCleared(this.#resource, uid, op.type === 'delete' ? 'deleted' : 'written', source)
      }
    }
    if (state.rejected.size === 0) return
    const entries = [...state.rejected].map(([index, rejection]) =>
      this.#fields(state, index, failureOfRejection(rejection), source),
    )
    await recordFailures(this.#collection, entries)
    this.#recorded(entries, known)
    state.counts.deadLettered += entries.length
  }

  async #chunkFailed(state: ChunkState, error: unknown, source: DeadLetterSource): Promise<void> {
    // The deadline stopped the chunk before it could fail: nothing failed, the next run repeats it.
    if (error instanceof DeadlineError) return
    let entries: DeadLetterFields[] = []
    try {
      const failure = failureOfError(error)
      entries = state.ops.flatMap((_, index) => {
        const rejection = state.rejected.get(index)
        if (rejection) return [this.#fields(state, index, failureOfRejection(rejection), source)]
        return state.done[index] ? [] : [this.#fields(state, index, failure, source)]
      })
      if (entries.length === 0) return
      // MongoDB's breaker is open: it is known to be down, so do not spend the
      // cap waiting for it; the log below keeps every operation.
      if (isCircuitOpen(error)) throw error
      const known = await withTimeout(
        this.#load().then(async (k) => {
          await recordFailures(this.#collection, entries)
          return k
        }),
        RECORD_FAILED_TIMEOUT_MS,
        'recording dead letters',
      )
      this.#recorded(entries, known)
      state.counts.deadLettered += entries.length
    } catch (recordError) {
      // MongoDB itself is failing: the log is the only place left, one line per operation.
      if (entries.length === 0) logChunkUndescribed(this.#resource, error, recordError)
      for (const e of entries) logUnrecorded(e, recordError)
    }
  }

  /**
   * After a complete list: dead letters of uids the list did not serve are of
   * objects gone from the cluster (or from the listed namespaces). Best
   * effort: a leftover is only noise, removed by the next complete list.
   */
  async pruneNotListed(seen: ReadonlySet<string>, namespaces?: readonly string[]): Promise<void> {
    try {
      const known = await this.#load()
      const inScope = (d: KnownDeadLetter) =>
        namespaces === undefined || (d.namespace !== null && namespaces.includes(d.namespace))
      const gone = [...known].filter(([uid, d]) => !seen.has(uid) && inScope(d)).map(([u]) => u)
      if (gone.length === 0) return
      await clearDeadLetters(
        this.#collection,
        gone.map((uid) => deadLetterIdOf(this.#cluster, this.#resource, uid)),
      )
      for (const uid of gone) {
        known.delete(uid)
        logCleared(this.#resource, uid, 'not listed', 'reconcile')
      }
    } catch (error) {
      logPruneFailed(this.#resource, error)
    }
  }

  #fields(
    state: ChunkState,
    index: number,
    failure: DeadLetterFailure,
    source: DeadLetterSource,
  ): DeadLetterFields {
    const scope = { cluster: this.#cluster, resource: this.#resource, source }
    return deadLetterFields(state.ops[index]!, failure, scope, this.#now())
  }

  #recorded(entries: readonly DeadLetterFields[], known: Map<string, KnownDeadLetter>): void {
    for (const e of entries) {
      const attempts = (known.get(e.uid)?.attempts ?? 0) + 1
      known.set(e.uid, { namespace: e.namespace ?? known.get(e.uid)?.namespace ?? null, attempts })
      logRecorded(e, attempts)
    }
  }
}
