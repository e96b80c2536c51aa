import type { WriteOp } from './write-op.js'

function uidOf(op: WriteOp): string {
  return op.type === 'delete' ? op.uid : op.object.metadata.uid
}

export interface CoalescedOps {
  /** At most one operation per uid, in the order of each uid's last operation. */
  readonly ops: WriteOp[]
  /** Operations dropped because a later one for the same uid supersedes them. */
  readonly superseded: number
}

/**
 * One operation per uid, so that no two chunks (which run concurrently) ever
 * race on the same document, and opaque resourceVersions, which cannot be
 * ordered, are ordered by the caller's sequence instead (watch events arrive in
 * order):
 *  - a delete wins over every write for its uid: Kubernetes never reuses a
 *    uid, so nothing can follow a delete;
 *  - otherwise the last write wins (a later event for a uid is newer).
 */
export function coalesceOps(ops: readonly WriteOp[]): CoalescedOps {
  const last = new Map<string, { op: WriteOp; position: number }>()
  ops.forEach((op, position) => {
    const uid = uidOf(op)
    const previous = last.get(uid)
    if (previous?.op.type === 'delete' && op.type !== 'delete') return
    last.set(uid, { op, position })
  })
  const kept = [...last.values()].sort((a, b) => a.position - b.position).map((entry) => entry.op)
  return { ops: kept, superseded: ops.length - kept.length }
}

/** Consecutive slices of at most `size` (the last may be shorter). */
export function splitIntoChunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer, got ${size}`)
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}
