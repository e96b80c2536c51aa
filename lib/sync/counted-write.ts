import { ChunkedWriteError } from '../store/writes/chunked-write-error.js'
import type { WriteCounts } from '../store/writes/write-op.js'

/**
 * Waits for a store write and hands what it wrote to `count`, also when it
 * fails part way: what a failed write did before failing still happened, and
 * belongs in the report (and the metrics) as much as a finished write does.
 */
export async function countedWrite(
  write: Promise<WriteCounts>,
  count: (counts: WriteCounts) => void,
): Promise<void> {
  const counts = await write.catch((error: unknown) => {
    if (error instanceof ChunkedWriteError) count(error.counts)
    throw error
  })
  count(counts)
}
