import { DeadlineError, messageOf } from '../errors.js'
import type { WatchWindowResult } from '../kube/watcher.js'
import { errorFields, logger } from '../log.js'
import type { MassDeleteLimits } from './mass-delete-guard.js'
import { reconcileResource } from './reconcile-resource.js'
import { replayWindow, type ReplayWindowOptions, type WindowProgress } from './replay-window.js'
import {
  addReportWriteCounts,
  newResourceReport,
  type ResourceReport,
  type ResourceStatus,
} from './resource-report.js'

/** Below this much window left, a 410 is left to the next invocation rather than relisted now. */
const MIN_RELIST_WINDOW_MS = 5_000

/**
 * One resource's line of the watch report (docs/design.md#watch). Besides
 * these: events and bookmarks (replay-window.ts), eventLagMaxMs and
 * resourceVersion, the checkpoint saved last (batch-flusher.ts).
 */
export interface WatchReport extends ResourceReport, WindowProgress {
  reconnects: number
  relists: number
  relistNeeded: boolean
}

/** A report with every count at zero (a resource not started, skipped or failed early). */
export function newWatchReport(
  resource: string,
  status: ResourceStatus,
  error?: string,
): WatchReport {
  return {
    ...newResourceReport(resource, status, error),
    events: 0,
    bookmarks: 0,
    reconnects: 0,
    relists: 0,
    relistNeeded: false,
    eventLagMaxMs: 0,
  }
}

export interface WatchResourceOptions extends ReplayWindowOptions {
  readonly signal: AbortSignal
  readonly remainingMs: () => number
  /** The mass-delete guard of a relist (never confirmed: only a manual reconcile confirms). */
  readonly massDelete: MassDeleteLimits
}

/** One resource's watch as its steps share it. */
interface ResourceWatch {
  readonly options: WatchResourceOptions
  readonly report: WatchReport
  /** The deadline, or `stop`. */
  readonly signal: AbortSignal
  /** Stops the watch when a write fails, so nothing is acknowledged past it. */
  readonly stop: AbortController
}

/**
 * Replays one bounded watch window of one resource: events are coalesced and
 * written in small batches, and the checkpoint moves only after the writes it
 * covers are acknowledged. A resource with no checkpoint at all is left to
 * the reconcile function (relistNeeded); one marked for relist, or answered 410,
 * is relisted within the window, and a relist the window ends stops cleanly
 * (docs/design.md#watch). The caller holds the lease.
 */
export async function watchResource(options: WatchResourceOptions): Promise<WatchReport> {
  const started = Date.now()
  const report = newWatchReport(options.resolved.ref.id, 'complete')
  const stop = new AbortController()
  const signal = AbortSignal.any([options.signal, stop.signal])
  const watch: ResourceWatch = { options, report, signal, stop }
  try {
    let from = await startingPoint(watch)
    while (from && !signal.aborted && Date.now() < options.windowEndsAt) {
      const savedBefore = report.resourceVersion
      const result = await replayWindow(options, { from, signal, stop }, report)
      report.reconnects += result.reconnects
      const quiet = report.resourceVersion === savedBefore
      from = await afterWindow(watch, result, quiet ? from : undefined)
    }
    if (!report.resourceVersion && report.relistNeeded && report.status === 'complete')
      report.status = 'failed'
  } catch (error) {
    report.status = options.signal.aborted ? 'partial' : 'failed'
    report.error = messageOf(error)
    logger.error(`watch of ${report.resource} ${report.status}`, {
      event: 'watch.failed',
      resource: report.resource,
      ...errorFields(error),
    })
    await options.store.recordError(report.error).catch(() => undefined)
  }
  report.durationMs = Date.now() - started
  return report
}

/** The saved checkpoint, or, where there is no usable one, the version a relist ends at. */
async function startingPoint(watch: ResourceWatch): Promise<string | undefined> {
  const { options, report } = watch
  const state = await options.store.getState()
  report.lastCompleteSyncAt = state?.lastFullSyncAt?.toISOString() ?? null
  if (!state?.listResourceVersion && !state?.watchResourceVersion) {
    // No checkpoint at all (a new cluster or resource): its first list may take
    // longer than any window (45,000 objects take minutes). Reconcile's job.
    report.relistNeeded = true
    report.status = 'partial'
    report.error = 'no checkpoint yet: the first list is left to the reconcile function'
    logger.warn(`${report.resource}: no checkpoint, first list left to reconcile`, {
      event: 'watch.relist-deferred',
      resource: report.resource,
    })
    return undefined
  }
  const from = state.needsRelist ? undefined : (state.watchResourceVersion ?? undefined)
  if (from) return from
  logger.info(`${report.resource}: marked for relist, relisting within the window`, {
    event: 'watch.relist',
    resource: report.resource,
  })
  return relist(watch)
}

/**
 * Where the next window starts after this one, or undefined when none does.
 * `quietFrom`: the version a window that saved no checkpoint started from.
 */
async function afterWindow(
  watch: ResourceWatch,
  result: WatchWindowResult,
  quietFrom: string | undefined,
): Promise<string | undefined> {
  const { report } = watch
  if (result.outcome === 'expired') return afterExpired(watch, result)
  if (result.outcome === 'failed' && watch.options.signal.aborted) {
    // The deadline stopped the writes: what was acknowledged is checkpointed, the rest replays.
    report.status = 'partial'
    report.error = `deadline reached: watch writes stopped, checkpoint left at ${report.resourceVersion ?? 'its saved version'} (${messageOf(result.error)})`
  } else if (result.outcome === 'failed') {
    report.status = 'failed'
    report.error = messageOf(result.error)
  } else if (result.outcome === 'deadline') {
    report.status = 'partial'
    report.error = 'deadline reached during the window'
  } else if (quietFrom !== undefined) {
    // A quiet window (no event, no bookmark: kube-apiserver sends none in
    // a short one) still is a window: stamp lastWatchAt at the version it
    // started from, so GET /health tells a quiet resource from a stopped watch.
    await watch.options.store.saveWatchCheckpoint(quietFrom, { events: 0 })
  }
  return undefined
}

/** A 410: the checkpoint is too old to watch from. Relist now if the window still has room. */
async function afterExpired(
  watch: ResourceWatch,
  result: WatchWindowResult,
): Promise<string | undefined> {
  const { options, report } = watch
  await options.store.markNeedsRelist('410 Gone on watch')
  logger.warn(`${options.resolved.kind} watch: resourceVersion expired (410), relist needed`, {
    event: 'watch.expired',
    resource: report.resource,
    resourceVersion: result.resourceVersion,
  })
  if (options.windowEndsAt - Date.now() < MIN_RELIST_WINDOW_MS || watch.signal.aborted) {
    report.relistNeeded = true
    return undefined
  }
  const from = await relist(watch)
  if (from) report.resourceVersion = from
  return from
}

/**
 * A reconcile pass within the watch, bounded by the window: one the window
 * ends stops as a reconcile stops at its deadline. The version it listed at is
 * where the watch goes on.
 */
async function relist(watch: ResourceWatch): Promise<string | undefined> {
  const { options, report } = watch
  report.relists++
  const windowEnd = new AbortController()
  const timer = setTimeout(
    () => windowEnd.abort(new DeadlineError('watch window ended during the relist')),
    Math.max(0, options.windowEndsAt - Date.now()),
  )
  const pass = await reconcileResource({
    resolved: options.resolved,
    source: options.source,
    store: options.store,
    signal: AbortSignal.any([watch.signal, windowEnd.signal]),
    remainingMs: () =>
      Math.max(0, Math.min(options.remainingMs(), options.windowEndsAt - Date.now())),
    massDelete: options.massDelete,
  }).finally(() => clearTimeout(timer))
  // What the pass wrote, it wrote, whether or not it completed.
  addReportWriteCounts(report, pass)
  report.historyWritten += pass.historyWritten
  report.historyIncomplete += pass.historyIncomplete
  if (pass.status !== 'complete' || !pass.listResourceVersion) {
    report.relistNeeded = true
    report.status = pass.status === 'partial' ? 'partial' : 'failed'
    report.error = `relist ${pass.status}: ${pass.error ?? 'unknown'}`
    return undefined
  }
  report.lastCompleteSyncAt = pass.lastCompleteSyncAt ?? null
  return pass.listResourceVersion
}
