import { logger } from '../log.js'
import type { SyncState, VersionReset } from '../store/bookkeeping/sync-state.js'
import { UNKNOWN_VERSION } from '../store/bookkeeping/version-reset.js'
import { areComparable, compareResourceVersions } from '../store/documents/resource-version.js'
import type { ResourceStore } from '../store/resource-store.js'

/*
 * An etcd restore, or any API server whose resourceVersions went back, serves
 * lists older than the checkpoint we saved. Every stored version then looks
 * newer than the served one, and the diff would skip every change as
 * "unchanged" (page-diff.ts). Detected by the list's resourceVersion, on its
 * first page: below a saved checkpoint, both decimal and compared as integers
 * (docs/design.md#invariant-3-no-regression-no-resurrection); an opaque
 * version has no order, so it never counts as going back.
 *
 * A rewrite may take more than one pass (FerretDB replaces about 150
 * documents a second). So sync_state keeps the reset until a complete list
 * ends it, and once every stored version is forgotten, later passes only go
 * on rewriting: forgetting again would throw away what they rewrote.
 */

/** The checkpoints a list is compared with, and a reset left unfinished. */
export type CheckpointFields = Pick<
  SyncState,
  'listResourceVersion' | 'watchResourceVersion' | 'versionReset'
>

/** What a pass does about versions that went back. */
export interface VersionsWentBack {
  readonly listResourceVersion: string
  /** The checkpoint the versions went back from. */
  readonly checkpoint: string
  /** Forget the stored versions (in this pass's scope) before the diff; false: already forgotten. */
  readonly forget: boolean
}

/** The highest saved checkpoint above the list's version, if any. */
function checkpointAbove(
  state: CheckpointFields | undefined,
  listResourceVersion: string,
): string | undefined {
  let above: string | undefined
  for (const saved of [state?.listResourceVersion, state?.watchResourceVersion]) {
    if (!saved || !areComparable(listResourceVersion, saved)) continue
    if (compareResourceVersions(listResourceVersion, saved) >= 0) continue
    if (above === undefined || compareResourceVersions(saved, above) > 0) above = saved
  }
  return above
}

/**
 * Undefined when the list is at or above every checkpoint and no reset is
 * under way. Otherwise the pass rewrites the resource: forgetting the stored
 * versions first, unless a reset under way forgot all of them already and
 * the list has not gone back again since (a second restore starts over).
 */
export function versionsWentBack(
  state: CheckpointFields | undefined,
  listResourceVersion: string,
): VersionsWentBack | undefined {
  const pending = state?.versionReset ?? undefined
  const checkpoint = checkpointAbove(state, listResourceVersion) ?? pending?.checkpoint
  if (checkpoint === undefined) return undefined
  const wentBackAgain =
    pending !== undefined &&
    areComparable(listResourceVersion, pending.listResourceVersion) &&
    compareResourceVersions(listResourceVersion, pending.listResourceVersion) < 0
  const forget = !pending?.forgotten || wentBackAgain
  return { listResourceVersion, checkpoint, forget }
}

export interface VersionResetOptions {
  readonly store: ResourceStore
  readonly resource: string
  readonly signal: AbortSignal
  readonly namespaces?: readonly string[]
  /** Plans the rewrite without touching the store. */
  readonly dryRun?: boolean
}

/**
 * Before the first page's diff: when the versions went back, forgets the
 * stored ones, in the store (marked in sync_state first) and in the pass's
 * own index `stored`, so the diff rewrites every listed object and the
 * complete list deletes what it did not serve. The complete list's checkpoint
 * then replaces the inflated one and clears the mark. Returns what it found.
 */
export async function resetIfVersionsWentBack(
  options: VersionResetOptions,
  state: CheckpointFields | undefined,
  listResourceVersion: string,
  stored: Map<string, string>,
): Promise<VersionsWentBack | undefined> {
  const found = versionsWentBack(state, listResourceVersion)
  if (!found) return undefined
  logWentBack(options, found, state?.versionReset ?? undefined, stored.size)
  if (!found.forget) return found
  const reset = { listResourceVersion, checkpoint: found.checkpoint }
  if (!options.dryRun) await options.store.resetVersions(reset, options.namespaces, options.signal)
  for (const uid of stored.keys()) stored.set(uid, UNKNOWN_VERSION)
  return found
}

function logWentBack(
  options: VersionResetOptions,
  found: VersionsWentBack,
  pending: VersionReset | undefined,
  stored: number,
): void {
  const below = compareResourceVersions(found.listResourceVersion, found.checkpoint) < 0
  const { resource } = options
  const message = below
    ? `${resource}: list at resourceVersion ${found.listResourceVersion} is below the checkpoint ${found.checkpoint}`
    : `${resource}: a rewrite after the versions went back below ${found.checkpoint} is unfinished`
  logger.warn(`${message}; rewriting the resource from this list`, {
    event: 'reconcile.versions-went-back',
    resource,
    listResourceVersion: found.listResourceVersion,
    checkpoint: found.checkpoint,
    forget: found.forget,
    resumed: pending !== undefined,
    stored,
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    dryRun: options.dryRun === true,
  })
}
