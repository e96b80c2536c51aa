import { SyncError } from '../../errors.js'
import type { WriteCounts } from './write-op.js'

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
