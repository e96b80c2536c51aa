import type { ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import type { ResourceStore } from '../store/resource-store.js'
import type { ListedPass, PassTally } from './list-pass.js'
import {
  describeHold,
  holdDeletes,
  type DeleteHold,
  type MassDeleteLimits,
} from './mass-delete-guard.js'
import { deletesAfterCompleteList } from './page-diff.js'
import type { PassWrites } from './pass-writes.js'

export interface CompleteListOptions {
  readonly resolved: ResolvedResource
  readonly store: ResourceStore
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
  /** MASS_DELETE_MAX_FRACTION and MASS_DELETE_MIN_STORED. */
  readonly massDelete: MassDeleteLimits
  /** An operator's `{"confirmDeletes": true}`: deletes the guard would hold go ahead. */
  readonly confirmDeletes?: boolean
}

/** What a complete list did with its deletes and its checkpoint. */
export interface CompleteListOutcome {
  /** False for a list of some namespaces, a dry run, or deletes held. */
  readonly checkpointSaved: boolean
  /** The deletes the mass-delete guard held back: none was applied. */
  readonly held?: DeleteHold
}

/**
 * What only a complete, consistent list may do: delete what it did not
 * serve, retire the dead letters and tombstones it makes moot, and, last,
 * save the list checkpoint. Deletes the mass-delete guard holds are not
 * applied, and then nothing after them is done either: the checkpoint stays
 * where it was (docs/operations.md#deletes-held).
 */
export async function finishCompleteList(
  options: CompleteListOptions,
  pass: ListedPass,
  writes: PassWrites,
  tally: PassTally,
): Promise<CompleteListOutcome> {
  const { store } = options
  const deletes = deletesAfterCompleteList(pass.stored, pass.seen, pass.listResourceVersion)
  const held = deletesHeld(options, pass, tally, deletes.length)
  if (held) {
    // The pass's inserts and updates stand (each is a true state of its
    // object). No list checkpoint: the watch goes on from its own, so delete
    // events it sees still apply, and the next reconcile weighs the deletes again.
    if (!options.dryRun) await store.recordError(describeHold(held))
    return { checkpointSaved: false, held }
  }
  tally.deletes = deletes.length
  await writes.write(deletes)
  if (options.dryRun) return { checkpointSaved: false }
  // Dead letters of objects this complete list no longer serves are moot.
  await store.pruneDeadLetters(pass.seen, options.namespaces)
  // A list of some namespaces says nothing of the others: it may not move
  // the resource's checkpoint, nor retire tombstones elsewhere.
  if (options.namespaces) return { checkpointSaved: false }
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
    // Under HISTORY_RESOURCES: what GET /health shows of the last list's history.
    ...(store.recordHistory
      ? { historyWritten: writes.history.written, historyIncomplete: writes.history.incomplete }
      : {}),
  })
  return { checkpointSaved: true }
}

/** The guard's verdict on this pass's deletes, logged; a confirmed run lets them through. */
function deletesHeld(
  options: CompleteListOptions,
  pass: ListedPass,
  tally: PassTally,
  wouldDelete: number,
): DeleteHold | undefined {
  const hold = holdDeletes(options.massDelete, {
    stored: pass.storedBefore,
    listed: tally.listed,
    wouldDelete,
  })
  if (!hold) return undefined
  const fields = { resource: options.resolved.ref.id, ...hold, dryRun: options.dryRun === true }
  if (options.confirmDeletes) {
    logger.warn(`${fields.resource}: ${wouldDelete} deletes confirmed by the invocation`, {
      event: 'reconcile.deletes-confirmed',
      ...fields,
    })
    return undefined
  }
  logger.warn(`${fields.resource}: ${describeHold(hold)}`, {
    event: 'reconcile.deletes-held',
    ...fields,
  })
  return hold
}
