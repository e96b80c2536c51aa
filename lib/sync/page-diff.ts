import type { KubeObject } from '../kube/types.js'
import { isNewer } from '../store/documents/resource-version.js'
import type { WriteOp } from '../store/writes/write-op.js'

/** What one list page changes, against the versions stored before the pass. */
export interface PageDiff {
  readonly ops: WriteOp[]
  readonly inserts: number
  readonly updates: number
  readonly unchanged: number
}

/**
 * Diffs one page against the stored-version index. Objects whose stored
 * version is the same, or newer (a watch already applied a later change), are
 * not written at all: an idle resync writes nothing (docs/design.md#invariant-4-idempotence).
 * Every uid of the page is recorded in `seen`, which decides the deletes once
 * the list has completed.
 */
export function diffPage(
  items: readonly KubeObject[],
  stored: ReadonlyMap<string, string>,
  seen: Set<string>,
): PageDiff {
  const ops: WriteOp[] = []
  let inserts = 0
  let updates = 0
  let unchanged = 0
  for (const object of items) {
    const { uid, resourceVersion } = object.metadata
    // A list restarted after a 410 may serve an object again: count it once.
    if (seen.has(uid)) continue
    seen.add(uid)
    const storedVersion = stored.get(uid)
    if (storedVersion === undefined) {
      ops.push({ type: 'insert', object })
      inserts++
    } else if (isNewer(resourceVersion, storedVersion)) {
      ops.push({ type: 'replace', object, expectedResourceVersion: storedVersion })
      updates++
    } else {
      unchanged++
    }
  }
  return { ops, inserts, updates, unchanged }
}

/**
 * Deletes for a completed, consistent list: every stored uid the list did not
 * serve is gone as of the list's resourceVersion. The compare-and-swap on the
 * stored version keeps a document a concurrent watch rewrote meanwhile.
 */
export function deletesAfterCompleteList(
  stored: ReadonlyMap<string, string>,
  seen: ReadonlySet<string>,
  listResourceVersion: string,
): WriteOp[] {
  const ops: WriteOp[] = []
  for (const [uid, storedVersion] of stored) {
    if (!seen.has(uid)) {
      ops.push({
        type: 'delete',
        uid,
        expectedResourceVersion: storedVersion,
        deletedAtResourceVersion: listResourceVersion,
      })
    }
  }
  return ops
}
