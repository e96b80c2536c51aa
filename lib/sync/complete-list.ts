import type { ResourceStore } from '../store/resource-store.js'
import type { ListedPass, PassTally } from './list-pass.js'
import { deletesAfterCompleteList } from './page-diff.js'
import type { PassWrites } from './pass-writes.js'

export interface CompleteListOptions {
  readonly store: ResourceStore
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
}

/**
 * What only a complete, consistent list may do: delete what it did not
 * serve, retire the dead letters and tombstones it makes moot, and, last,
 * save the list checkpoint. Returns whether the checkpoint was saved (a list
 * of some namespaces, or a dry run, saves none).
 */
export async function finishCompleteList(
  options: CompleteListOptions,
  pass: ListedPass,
  writes: PassWrites,
  tally: PassTally,
): Promise<boolean> {
  const { store } = options
  const deletes = deletesAfterCompleteList(pass.stored, pass.seen, pass.listResourceVersion)
  tally.deletes = deletes.length
  await writes.write(deletes)
  if (options.dryRun) return false
  // Dead letters of objects this complete list no longer serves are moot.
  await store.pruneDeadLetters(pass.seen, options.namespaces)
  // A list of some namespaces says nothing of the others: it may not move
  // the resource's checkpoint, nor retire tombstones elsewhere.
  if (options.namespaces) return false
  const { written } = writes
  // Every planned write landed as planned (no guard stepped in): the index
  // now is what the collection holds, worth keeping for next time.
  if (written.skippedByGuard === 0) {
    for (const op of deletes) if (op.type === 'delete') pass.stored.delete(op.uid)
    await store.saveVersions(pass.stored)
  }
  await store.pruneTombstones(pass.listResourceVersion)
  // The checkpoint comes last: every write it covers is acknowledged
  // (docs/design.md#invariant-5-checkpoints-after-writes). A rejected operation
  // counts as acknowledged once its dead letter is stored; the next reconcile
  // lists the object again and writes it again.
  await store.saveListCheckpoint(pass.listResourceVersion, {
    listed: tally.listed,
    inserted: written.inserted,
    updated: written.updated,
    deleted: written.deleted,
    unchanged: tally.unchanged + written.skippedByGuard,
    deadLettered: written.deadLettered,
    pages: tally.pages,
  })
  return true
}
