import type { Collection, Db } from 'mongodb'
import type { Config } from '../../config.js'
import { DeadlineError, messageOf } from '../../errors.js'
import { unguarded, type Guard } from '../../resilience/circuit-breaker.js'
import { notTransient } from '../../classify.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import type { ChunkDeadLetters } from '../bookkeeping/dead-letter-tracker.js'
import { tombstonesOf } from '../bookkeeping/tombstones.js'
import { serverProfileOf } from '../connection/server-profile.js'
import type { InventoryDocument, MappingContext } from '../documents/mapper.js'
import { createPacing, fixedPacing, type Pacing } from './adaptive-pacing.js'
import { logChunkedWrite } from './chunk-log.js'
import { runPaced, type PacedOutcome } from './chunk-scheduler.js'
import { ChunkedWriteError } from './chunked-write-error.js'
import { coalesceOps, splitIntoChunks } from './coalesce-ops.js'
import type { WriteTarget } from './protocol/target.js'
import { writeChunk, type ChunkedWrite } from './write-chunk.js'
import { emptyCounts, type WriteCounts, type WriteOp } from './write-op.js'

export interface WriteChunkedOptions {
  /** ResourceRef id (`v1/pods`): log context and tombstones. */
  readonly resource: string
  /** Cluster, apiVersion, kind and the Secret policy, for mapping objects to documents. */
  readonly mapping: MappingContext
  /** Needed for the tombstone collection; defaults to the collection's own database. */
  readonly db?: Db
  /** The Lambda deadline: no chunk starts after it fires; chunks in flight finish. */
  readonly signal?: AbortSignal
  /** bulkWrite.*, features.*, retry.*, breaker.* and pacing.*. */
  readonly config: Pick<Config, 'bulkWrite' | 'features' | 'retry' | 'breaker' | 'pacing'>
  /** Overrides config.retry for the chunk retries (tests use short delays). */
  readonly retryPolicy?: RetryPolicy
  readonly now?: () => Date
  /** Overrides the server's profile (see server-profile.ts); tests use it to run both guard modes. */
  readonly atomicConditionalWrites?: boolean
  /** Where rejected and finally failed operations go (dead-letter-tracker.ts); none: nowhere. */
  readonly deadLetters?: ChunkDeadLetters
  /** MongoDB's circuit breaker (the container's); none: calls go straight through. */
  readonly guard?: Guard
  /** The container's adaptive pacing; none: a fresh one from the configuration. */
  readonly pacing?: Pacing
  /** Stored versions read by `_id` just before, under the same lease (WriteTarget.primed). */
  readonly knownVersions?: ReadonlyMap<string, string | null>
}

export interface WriteResult extends WriteCounts {
  readonly total: number
  readonly chunks: number
  readonly completedChunks: number
  /** Operations of chunks never started because the signal aborted. */
  readonly notStarted: number
  readonly aborted: boolean
}

/**
 * Applies write operations for one resource in chunks of BULK_WRITE_BATCH_SIZE,
 * at most BULK_WRITE_MAX_CONCURRENT in flight, BULK_WRITE_BATCH_DELAY_MS apart,
 * each retried alone on a transient error (write-chunk.ts). With
 * ENABLE_CHUNKED_BULK_WRITE=false everything goes as one chunk (still
 * retried). The write protocol (CAS, tombstones) is in protocol/apply-chunk.ts.
 */
export async function writeChunked(
  collection: Collection<InventoryDocument>,
  ops: readonly WriteOp[],
  options: WriteChunkedOptions,
): Promise<WriteResult> {
  const { config } = options
  const target = await writeTargetOf(collection, options)
  const { ops: coalesced, superseded } = coalesceOps(ops)
  const chunked = config.features.chunkedBulkWrite
  const batchSize = chunked ? config.bulkWrite.batchSize : Math.max(1, coalesced.length)
  const write: ChunkedWrite = {
    resource: options.resource,
    target,
    chunks: splitIntoChunks(coalesced, batchSize),
    total: coalesced.length,
    pacing: chunked
      ? (options.pacing ?? createPacing(config))
      : fixedPacing(1, config.bulkWrite.batchDelayMs),
    retryPolicy: options.retryPolicy ?? config.retry,
    guard: options.guard ?? unguarded,
    signal: options.signal,
    deadLetters: options.deadLetters,
    counts: { ...emptyCounts(), skippedByGuard: superseded },
    processed: 0,
    completedChunks: 0,
  }
  if (chunked) logChunkedWrite(write, batchSize)

  const outcome = await runPaced(
    write.chunks.length,
    {
      maxConcurrent: () => write.pacing.concurrency(),
      delayMs: () => write.pacing.delayMs(),
      signal: options.signal,
    },
    (index) => writeChunk(write, index),
  )
  const failure = firstFailure(write, outcome)
  if (failure) throw failure
  const notStarted = write.chunks.slice(outcome.started).reduce((n, c) => n + c.length, 0)
  return {
    ...write.counts,
    total: write.total,
    chunks: write.chunks.length,
    completedChunks: write.completedChunks,
    notStarted,
    aborted: notStarted > 0,
  }
}

/** Where the writes go, and how the server wants them guarded (its profile, looked up once per database). */
async function writeTargetOf(
  collection: Collection<InventoryDocument>,
  options: WriteChunkedOptions,
): Promise<WriteTarget> {
  const { config, resource } = options
  const db = options.db ?? collection.db
  const profile = await retryWithBackoff(
    () => (options.guard ?? unguarded)(() => serverProfileOf(db)),
    `server profile for ${resource}`,
    { signal: options.signal, policy: options.retryPolicy ?? config.retry, isFatal: notTransient },
  )
  return {
    collection,
    tombstones: tombstonesOf(db),
    mapping: options.mapping,
    resourceId: resource,
    now: options.now ?? (() => new Date()),
    atomicConditionalWrites: options.atomicConditionalWrites ?? profile.atomicConditionalWrites,
    readByIdOnly: profile.readByIdOnly,
    ...(options.knownVersions ? { primed: new Map(options.knownVersions) } : {}),
  }
}

/** The write's error, named for its first failed chunk, with what every chunk wrote. */
function firstFailure(write: ChunkedWrite, outcome: PacedOutcome): ChunkedWriteError | undefined {
  const [first] = [...outcome.failures.entries()].sort(([a], [b]) => a - b)
  if (!first) return undefined
  const [index, error] = first
  const { resource, chunks, processed, total } = write
  const kind = error instanceof DeadlineError ? 'stopped by the deadline' : 'failed'
  return new ChunkedWriteError(
    `bulk write for ${resource} ${kind} at chunk ${index + 1}/${chunks.length} (${processed}/${total} operations done): ${messageOf(error)}`,
    {
      counts: write.counts,
      context: { operation: 'writeChunked', resource, chunk: index + 1, chunks: chunks.length },
      cause: error,
    },
  )
}
