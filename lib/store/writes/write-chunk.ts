import { notTransient } from '../../classify.js'
import type { Guard } from '../../resilience/circuit-breaker.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
import type { ChunkDeadLetters } from '../bookkeeping/dead-letter-tracker.js'
import { unwrapBulkWriteError } from '../connection/driver-errors.js'
import { observedAttempt, type Pacing } from './adaptive-pacing.js'
import { ChunkLog, type ChunkProgress } from './chunk-log.js'
import { applyChunk } from './protocol/apply-chunk.js'
import { newChunkState, type ChunkState } from './protocol/chunk-state.js'
import type { WriteTarget } from './protocol/target.js'
import { addCounts, type WriteCounts, type WriteOp } from './write-op.js'

/** One writeChunked call, as each of its chunks sees it. */
export interface ChunkedWrite extends ChunkProgress {
  readonly target: WriteTarget
  readonly chunks: ReadonlyArray<readonly WriteOp[]>
  readonly pacing: Pacing
  readonly retryPolicy: RetryPolicy
  /** Every attempt goes through MongoDB's circuit breaker. */
  readonly guard: Guard
  /** The deadline: a chunk in flight finishes its attempt, no attempt (nor backoff) starts after it. */
  readonly signal: AbortSignal | undefined
  readonly deadLetters: ChunkDeadLetters | undefined
  /** What every chunk wrote so far, failed ones included. */
  readonly counts: WriteCounts
  processed: number
  completedChunks: number
}

/**
 * Writes chunk `index`, retried alone on a transient error. Each retry
 * repeats only what the server has not acknowledged (apply-chunk.ts). A chunk
 * that fails for good hands what it still had to the dead letters and throws.
 */
export async function writeChunk(write: ChunkedWrite, index: number): Promise<void> {
  const state = newChunkState(write.chunks[index]!)
  const log = new ChunkLog(write, index + 1, state.ops.length)
  try {
    await retryWithBackoff(
      (attempt) => {
        if (attempt > 1) log.retrying(attempt)
        return attemptChunk(write, state)
      },
      `bulk write chunk ${index + 1}/${write.chunks.length} for ${write.resource}`,
      {
        signal: write.signal,
        policy: write.retryPolicy,
        // Transient errors only: a document the server refuses is settled inside the chunk
        // (rejections.ts); any other failure is one another attempt cannot cure, or a bug.
        isFatal: notTransient,
        context: log.context,
        onRetry: (event) => log.attemptFailed(event),
        onSuccessAfterRetry: () => {
          write.counts.retriedChunks++
          log.retrySucceeded()
        },
        // The final 'chunk.failed' line below says it, for a fatal error and the deadline too.
        onGiveUp: () => undefined,
      },
    )
  } catch (error) {
    await write.deadLetters?.chunkFailed(state, error)
    addCounts(write.counts, state.counts)
    write.counts.failedChunks++
    log.failedForGood(error)
    throw error
  }
  addCounts(write.counts, state.counts)
  write.processed += state.ops.length
  write.completedChunks++
  log.processed()
}

/** One attempt at what is left of a chunk, through MongoDB's breaker; its timing feeds the pacing. */
async function attemptChunk(write: ChunkedWrite, state: ChunkState): Promise<void> {
  await observedAttempt(
    write.pacing,
    () =>
      write.guard(() =>
        applyChunk(write.target, state)
          .then(() => write.deadLetters?.chunkApplied(state))
          .catch((error: unknown) => {
            throw unwrapBulkWriteError(error)
          }),
      ),
    () => write.counts.pacingSlowdowns++,
  )
}
