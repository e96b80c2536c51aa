import type { ClusterSource } from '../kube/cluster-source.js'
import type { ListPage, RefusedObject, ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import type { ResourceStore } from '../store/resource-store.js'
import type { WriteOp } from '../store/writes/write-op.js'
import { diffPage } from './page-diff.js'
import type { PassWrites } from './pass-writes.js'
import { readAhead } from './read-ahead.js'

/**
 * List pages read while the version index is still loading: enough to overlap
 * the two where the index is quick (a snapshot on FerretDB, a covered
 * projection on MongoDB: a few pages' time), few enough that memory stays a
 * few pages (docs/design.md#invariant-6-bounded).
 */
const PAGES_AHEAD_OF_INDEX = 4

export interface ListPassOptions {
  readonly resolved: ResolvedResource
  readonly source: ClusterSource
  readonly store: ResourceStore
  readonly signal: AbortSignal
  readonly namespaces?: readonly string[]
  /** Time left before the deadline, to decide whether a restarted list can still finish. */
  readonly remainingMs: () => number
}

/**
 * What a pass has listed, and what its diff planned, so far. The caller keeps
 * it, so a pass that fails part way still reports how far it got.
 */
export interface PassTally {
  listed: number
  pages: number
  /** What the diff planned (a dry run reports these as its writes). */
  inserts: number
  updates: number
  deletes: number
  unchanged: number
}

export function newPassTally(): PassTally {
  return { listed: 0, pages: 0, inserts: 0, updates: 0, deletes: 0, unchanged: 0 }
}

/** A list that ran to its last page. */
export interface ListedPass {
  /** uid -> version as stored before the pass, with this pass's writes applied. */
  readonly stored: Map<string, string>
  /** How many documents were stored before the pass (in its namespaces): what deletes are weighed against. */
  readonly storedBefore: number
  /** Every uid the list served: what is stored and not seen is gone. */
  readonly seen: ReadonlySet<string>
  readonly listResourceVersion: string
  /** False when the list followed an inconsistent continue token after a 410: it may not delete. */
  readonly consistent: boolean
}

/**
 * Called once, with the list's version and the loaded index, before the
 * first page is diffed: the caller may change the index (versions-went-back.ts).
 */
export type BeforeFirstDiff = (
  listResourceVersion: string,
  stored: Map<string, string>,
) => Promise<void>

/**
 * Lists every page and streams it through the diff into the writer: the
 * version index loads while the first pages arrive, and the next page is
 * fetched while the current one is written. Returns once every write is
 * acknowledged; deletes are left to the caller.
 */
export async function listPass(
  options: ListPassOptions,
  writes: PassWrites,
  tally: PassTally,
  beforeFirstDiff?: BeforeFirstDiff,
): Promise<ListedPass> {
  const { resolved, store, signal } = options
  // The index loads while the first pages are listed; each diff waits for it.
  const loading = store.loadVersions(options.namespaces)
  loading.catch(() => undefined) // surfaced by the await in the loop or after it
  let stored: Map<string, string> | undefined
  let storedBefore = 0
  let seen = new Set<string>()
  let listResourceVersion = ''
  let consistent = true

  const pages = options.source.listPages(resolved, {
    namespaces: options.namespaces,
    signal,
    allowInconsistentContinue: inconsistentContinueAllowed(options.remainingMs),
  })
  for await (const page of readAhead(pages, loading, PAGES_AHEAD_OF_INDEX)) {
    if (!stored) {
      stored = await loading
      storedBefore = stored.size
      await beforeFirstDiff?.(page.listResourceVersion, stored)
    }
    if (page.restarted) {
      // Pages already written stay written (each was a true state of its
      // objects); only the "seen" set, which decides deletes, starts over.
      seen = new Set()
      tally.listed = 0
      logger.info('list restarted after 410', {
        event: 'reconcile.list-restarted',
        resource: resolved.ref.id,
        page: page.page,
      })
    }
    consistent &&= page.consistent
    listResourceVersion = page.listResourceVersion
    const ops = diffInto(page, stored, seen, tally)
    if (page.refused) await refuse(page.refused, seen, writes)
    // One write in flight while the next page is fetched: list and write overlap.
    await writes.overlap(ops)
    logPage(resolved, page, ops.length, tally)
  }
  await writes.drain()
  if (!stored) {
    stored = await loading
    storedBefore = stored.size
  }
  return { stored, storedBefore, seen, listResourceVersion, consistent }
}

/**
 * A restart after a 410 is worth it only while a full list still fits in the
 * time left (twice what listing took so far); past that, the list goes on
 * with the inconsistent continue token, and the pass deletes nothing.
 */
function inconsistentContinueAllowed(remainingMs: () => number): () => boolean {
  const startedListing = Date.now()
  return () => remainingMs() < (Date.now() - startedListing) * 2
}

/**
 * Objects the Kubernetes edge refused (lib/kube/served-object.ts) are
 * dead-lettered, and count as seen: a refused object whose uid was usable
 * keeps its stored document (docs/design.md#invariant-2-no-false-deletes), and
 * its dead letter is not pruned as "not listed".
 */
async function refuse(
  refused: readonly RefusedObject[],
  seen: Set<string>,
  writes: PassWrites,
): Promise<void> {
  for (const r of refused) seen.add(r.key)
  await writes.refuse(refused)
}

/** Diffs one page, counts it, and returns its writes. */
function diffInto(
  page: ListPage,
  stored: Map<string, string>,
  seen: Set<string>,
  tally: PassTally,
): WriteOp[] {
  tally.pages++
  tally.listed += page.items.length
  const diff = diffPage(page.items, stored, seen)
  // What this pass writes counts as stored: if a 410 restarts the list and
  // the new pass no longer serves an object written here, it is deleted.
  for (const op of diff.ops)
    if (op.type !== 'delete') stored.set(op.object.metadata.uid, op.object.metadata.resourceVersion)
  tally.unchanged += diff.unchanged
  tally.inserts += diff.inserts
  tally.updates += diff.updates
  return diff.ops
}

function logPage(resolved: ResolvedResource, page: ListPage, writes: number, tally: PassTally) {
  logger.info(
    `${resolved.kind} page ${page.page}: ${page.items.length} listed, ${writes} to write`,
    {
      event: 'reconcile.page',
      resource: resolved.ref.id,
      page: page.page,
      items: page.items.length,
      writes,
      listed: tally.listed,
    },
  )
}
