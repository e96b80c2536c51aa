import type { Rejection } from '../rejections.js'
import { rejectionOf } from '../rejections.js'
import { emptyCounts, type WriteCounts, type WriteOp } from '../write-op.js'
import type { SettleOutcome } from './slow-path.js'

/**
 * What the server has acknowledged of one chunk, op by op. Attempts at the
 * chunk share it, so a retry after a network error repeats only the
 * unacknowledged work: nothing is lost or doubled.
 */
export interface ChunkState {
  readonly ops: readonly WriteOp[]
  /** done[i]: op i is acknowledged and counted; a retry skips it. */
  readonly done: boolean[]
  readonly counts: WriteCounts
  /** Ops refused for good (done, never written), by index: the dead letters of this chunk. */
  readonly rejected: Map<number, Rejection>
}

export function newChunkState(ops: readonly WriteOp[]): ChunkState {
  return { ops, done: ops.map(() => false), counts: emptyCounts(), rejected: new Map() }
}

/** Op `index` is acknowledged with this outcome. */
export function record(state: ChunkState, index: number, outcome: SettleOutcome): void {
  state.done[index] = true
  if (outcome === 'inserted') state.counts.inserted++
  else if (outcome === 'updated') state.counts.updated++
  else if (outcome === 'deleted') state.counts.deleted++
  else state.counts.skippedByGuard++
}

/** Op `index` is refused for good: done, and a dead letter to be. */
export function reject(state: ChunkState, index: number, rejection: Rejection): void {
  state.done[index] = true
  state.rejected.set(index, rejection)
}

/** Records what the slow path decided, or the rejection it ran into. */
export async function settled(
  state: ChunkState,
  index: number,
  outcome: Promise<SettleOutcome>,
): Promise<void> {
  try {
    record(state, index, await outcome)
  } catch (error) {
    const rejection = rejectionOf(error)
    if (!rejection) throw error
    reject(state, index, rejection)
  }
}
