import { messageOf } from '../../errors.js'
import { errorFields, logger } from '../../log.js'
import type { RetryEvent } from '../../retry.js'

/*
 * The log lines of a chunked bulk write. Their wording is the user's, and
 * operators and the fault tests search for it: change a message only with
 * them. Each retry is logged once, here (retryWithBackoff logs nothing of a
 * retry its caller handles with onRetry).
 */

/** Where a chunked write stands when a line is written. */
export interface ChunkProgress {
  readonly resource: string
  /** The write's chunks (the lines number them). */
  readonly chunks: ArrayLike<unknown>
  /** Operations in the write, after coalescing. */
  readonly total: number
  /** Operations of the chunks completed so far. */
  readonly processed: number
}

export function logChunkedWrite(progress: ChunkProgress, batchSize: number): void {
  logger.info(`Using chunked bulk writes (batch size: ${batchSize})`, {
    event: 'bulk.chunked',
    resource: progress.resource,
    batchSize,
    total: progress.total,
    chunks: progress.chunks.length,
  })
}

/** The lines of one chunk, `chunk` counting from 1. */
export class ChunkLog {
  readonly #progress: ChunkProgress
  readonly #chunk: number
  readonly #size: number
  /** The backoff before the attempt that is about to start. */
  #delayMs = 0

  constructor(progress: ChunkProgress, chunk: number, size: number) {
    this.#progress = progress
    this.#chunk = chunk
    this.#size = size
  }

  /** The context of every line, and of the chunk's errors. */
  get context() {
    return { resource: this.#progress.resource, chunk: this.#chunk, chunks: this.#chunks }
  }

  get #chunks(): number {
    return this.#progress.chunks.length
  }

  /** An attempt failed and the chunk will be retried after `delayMs` (retryWithBackoff's onRetry). */
  attemptFailed({ error, attempt, delayMs }: RetryEvent): void {
    this.#delayMs = delayMs
    logger.warn(this.#failedMessage(error), {
      event: 'chunk.failed',
      ...this.#failedFields(),
      attempt,
      delayMs,
      ...errorFields(error),
    })
  }

  /** Attempt number `attempt` (2 or more) starts, once the backoff has passed. */
  retrying(attempt: number): void {
    logger.info(`Retrying chunk ${this.#chunk} after error...`, {
      event: 'chunk.retrying',
      ...this.context,
      attempt,
      delayMs: this.#delayMs,
    })
  }

  retrySucceeded(): void {
    logger.info(`Chunk ${this.#chunk} retry succeeded`, {
      event: 'chunk.retry-succeeded',
      ...this.context,
    })
  }

  processed(): void {
    const { processed, total } = this.#progress
    logger.info(
      `Chunk ${this.#chunk}/${this.#chunks} processed (${processed}/${total} operations)`,
      {
        event: 'chunk.processed',
        ...this.context,
        processed,
        total,
      },
    )
  }

  /** The chunk failed for good: retries used up, a fatal error, or the deadline. */
  failedForGood(error: unknown): void {
    logger.error(this.#failedMessage(error), {
      event: 'chunk.failed',
      ...this.#failedFields(),
      final: true,
      ...errorFields(error),
    })
  }

  #failedMessage(error: unknown): string {
    return `Failed to write chunk ${this.#chunk}/${this.#chunks} for ${this.#progress.resource}: ${messageOf(error)}`
  }

  #failedFields() {
    const { processed, total } = this.#progress
    return { ...this.context, chunkSize: this.#size, processed, total }
  }
}
