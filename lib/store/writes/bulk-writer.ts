import type { Collection, Db } from 'mongodb'
import { getConfig, type Config } from '../../config.js'
import { DeadlineError, isTransient, messageOf, SyncError } from '../../errors.js'
import { errorFields, logger } from '../../log.js'
import { guarded } from '../../resilience/circuit-breaker.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import { fixedPacing, pacingFor } from './adaptive-pacing.js'
import { runPaced } from './chunk-scheduler.js'
import { coalesceOps, splitIntoChunks } from './coalesce-ops.js'
import type { ChunkDeadLetters } from '../bookkeeping/dead-letter-tracker.js'
import { unwrapBulkWriteError } from '../connection/driver-errors.js'
import type { MappingContext } from '../documents/mapper.js'
import { serverProfileOf } from '../connection/server-profile.js'
import { tombstonesOf } from '../bookkeeping/tombstones.js'
import type { WriteCounts, WriteOp } from './write-op.js'
import type { InventoryDocument } from '../documents/mapper.js'
import { type WriteTarget } from './protocol/target.js'
import { addCounts } from './write-op.js'
import { emptyCounts } from './write-op.js'
import { applyChunk, newChunkState } from './protocol/apply-chunk.js'

export interface WriteChunkedOptions {
  /** ResourceRef id (`v1/pods`): log context and tombstones. */
  readonly resource: string
  /** Cluster, apiVersion, kind and the Secret policy, for mapping objects to documents. */
  readonly mapping: MappingContext
  /** Needed for the tombstone collection; defaults to the collection's own database. */
  readonly db?: Db
  /** The Lambda deadline: no chunk starts after it fires; chunks in flight finish. */
  readonly signal?: AbortSignal
  /** Defaults to getConfig(): bulkWrite.*, features.*, retry.*, breaker.* and pacing.*. */
  readonly config?: Pick<Config, 'bulkWrite' | 'features' | 'retry' | 'breaker' | 'pacing'>
  /** Overrides config.retry for the chunk retries (tests use short delays). */
  readonly retryPolicy?: RetryPolicy
  readonly now?: () => Date
  /** Overrides the server's profile (see server-profile.ts); tests use it to run both guard modes. */
  readonly atomicConditionalWrites?: boolean
  /** Where rejected and finally failed operations go (dead-letter-tracker.ts); none: nowhere. */
  readonly deadLetters?: ChunkDeadLetters
}

export interface WriteResult extends WriteCounts {
  readonly total: number
  readonly chunks: number
  readonly completedChunks: number
  /** Operations of chunks never started because the signal aborted. */
  readonly notStarted: number
  readonly aborted: boolean
}

/** A chunk failed for good (fatal error, or retries used up); `counts` says what was written before. */
export class ChunkedWriteError extends SyncError {
  override readonly name = 'ChunkedWriteError'
  readonly counts: WriteCounts

  constructor(
    message: string,
    options: { counts: WriteCounts; context: SyncError['context']; cause: unknown },
  ) {
    super(message, { context: options.context, cause: options.cause })
    this.counts = options.counts
  }
}

/**
 * Applies write operations for one resource in chunks of BULK_WRITE_BATCH_SIZE,
 * at most BULK_WRITE_MAX_CONCURRENT in flight, BULK_WRITE_BATCH_DELAY_MS apart,
 * each retried alone on a transient error. With ENABLE_CHUNKED_BULK_WRITE=false
 * everything goes as one chunk (still retried). The write protocol (CAS,
 * tombstones) is in write-protocol.ts.
 */
export async function writeChunked(
  collection: Collection<InventoryDocument>,
  ops: readonly WriteOp[],
  options: WriteChunkedOptions,
): Promise<WriteResult> {
  const config = options.config ?? getConfig()
  const { resource, signal } = options
  const db = options.db ?? collection.db
  const profile = await retryWithBackoff(
    () => guarded('mongodb', () => serverProfileOf(db), { config }),
    `server profile for ${resource}`,
    {
      signal,
      policy: options.retryPolicy ?? config.retry,
    },
  )
  const target: WriteTarget = {
    collection,
    tombstones: tombstonesOf(db),
    mapping: options.mapping,
    resourceId: resource,
    now: options.now ?? (() => new Date()),
    atomicConditionalWrites: options.atomicConditionalWrites ?? profile.atomicConditionalWrites,
    readByIdOnly: profile.readByIdOnly,
  }
  const { ops: coalesced, superseded } = coalesceOps(ops)
  const chunked = config.features.chunkedBulkWrite
  const batchSize = chunked ? config.bulkWrite.batchSize : Math.max(1, coalesced.length)
  const chunks = splitIntoChunks(coalesced, batchSize)
  const pacing = chunked ? pacingFor(config) : fixedPacing(1, config.bulkWrite.batchDelayMs)
  const total = coalesced.length
  const counts = emptyCounts()
  counts.skippedByGuard += superseded
  let processed = 0
  let completedChunks = 0

  if (chunked)
    logger.info(`Using chunked bulk writes (batch size: ${batchSize})`, {
      event: 'bulk.chunked',
      resource,
      batchSize,
      total,
      chunks: chunks.length,
    })

  const runChunk = async (index: number): Promise<void> => {
    const chunk = index + 1
    const state = newChunkState(chunks[index]!)
    const size = state.ops.length
    const context = { resource, chunk, chunks: chunks.length }
    let retried = false
    const attempt = async (): Promise<void> => {
      const startedAt = Date.now()
      let failed = false
      try {
        await guarded(
          'mongodb',
          () =>
            applyChunk(target, state)
              .then(() => options.deadLetters?.chunkApplied(state))
              .catch((error: unknown) => {
                throw unwrapBulkWriteError(error)
              }),
          { config },
        )
      } catch (error) {
        failed = isTransient(error)
        throw error
      } finally {
        const durationMs = Date.now() - startedAt
        if (pacing.observe({ startedAt, durationMs, failed })) counts.pacingSlowdowns++
      }
    }
    await retryWithBackoff(attempt, `bulk write chunk ${chunk}/${chunks.length} for ${resource}`, {
      // A chunk in flight finishes its attempt; the deadline only stops new ones (and backoff sleeps).
      signal,
      policy: options.retryPolicy ?? config.retry,
      context,
      onRetry: ({ error, delayMs, attempt }) => {
        retried = true
        logger.warn(
          `Failed to write chunk ${chunk}/${chunks.length} for ${resource}: ${messageOf(error)}`,
          {
            event: 'chunk.failed',
            ...context,
            chunkSize: size,
            processed,
            total,
            ...errorFields(error),
          },
        )
        logger.info(`Retrying chunk ${chunk} after error...`, {
          event: 'chunk.retrying',
          ...context,
          attempt,
          delayMs,
        })
      },
    }).catch(async (error: unknown) => {
      await options.deadLetters?.chunkFailed(state, error)
      addCounts(counts, state.counts)
      counts.failedChunks++
      logger.error(
        `Failed to write chunk ${chunk}/${chunks.length} for ${resource}: ${messageOf(error)}`,
        {
          event: 'chunk.failed',
          ...context,
          chunkSize: size,
          processed,
          total,
          final: true,
          ...errorFields(error),
        },
      )
      throw error
    })
    if (retried) {
      counts.retriedChunks++
      logger.info(`Chunk ${chunk} retry succeeded`, { event: 'chunk.retry-succeeded', ...context })
    }
    addCounts(counts, state.counts)
    processed += size
    completedChunks++
    logger.info(`Chunk ${chunk}/${chunks.length} processed (${processed}/${total} operations)`, {
      event: 'chunk.processed',
      resource,
      chunk,
      chunks: chunks.length,
      processed,
      total,
    })
  }

  const outcome = await runPaced(
    chunks.length,
    {
      maxConcurrent: () => pacing.concurrency(),
      delayMs: () => pacing.delayMs(),
      signal,
    },
    runChunk,
  )
  const notStarted = chunks.slice(outcome.started).reduce((n, c) => n + c.length, 0)
  const [firstFailure] = [...outcome.failures.entries()].sort(([a], [b]) => a - b)
  if (firstFailure) {
    const [index, error] = firstFailure
    const kind = error instanceof DeadlineError ? 'stopped by the deadline' : 'failed'
    throw new ChunkedWriteError(
      `bulk write for ${resource} ${kind} at chunk ${index + 1}/${chunks.length} (${processed}/${total} operations done): ${messageOf(error)}`,
      {
        counts,
        context: { operation: 'writeChunked', resource, chunk: index + 1, chunks: chunks.length },
        cause: error,
      },
    )
  }
  return {
    ...counts,
    total,
    chunks: chunks.length,
    completedChunks,
    notStarted,
    aborted: notStarted > 0,
  }
}
