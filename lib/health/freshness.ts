import type { SyncState } from '../store/bookkeeping/sync-state.js'

/**
 * Why a resource is not healthy, one code per failed check. The codes are the
 * contract of the `reasons` field of GET /health.
 */
export type HealthReason =
  | 'never-synced'
  | 'sync-stale'
  | 'watch-never-ran'
  | 'watch-stale'
  | 'needs-relist'
  | 'mongo-unreachable'

export interface FreshnessThresholds {
  readonly maxSyncAgeSeconds: number
  /** 0: the watch is not checked (a deployment that runs reconcile only). */
  readonly maxWatchAgeSeconds: number
}

export interface ResourceHealth {
  readonly resource: string
  readonly healthy: boolean
  readonly reasons: readonly HealthReason[]
  readonly lastFullSyncAt: string | null
  readonly lastFullSyncAgeSeconds: number | null
  readonly lastWatchAt: string | null
  readonly lastWatchAgeSeconds: number | null
  readonly needsRelist: boolean
  readonly relistReason: string | null
  readonly lastError: { readonly message: string; readonly at: string } | null
  /**
   * Under HISTORY_RESOURCES: the versions the last complete list and the last
   * watch checkpoint recorded in object_history, and how many of them were
   * marked incomplete (docs/history.md). Absent for a resource without history.
   */
  readonly history?: {
    readonly lastList: { readonly written: number; readonly incomplete: number } | null
    readonly lastWatch: { readonly written: number; readonly incomplete: number } | null
  }
}

/** The fields of `sync_state` the health check reads. */
export type StateFields = Pick<
  SyncState,
  | 'lastFullSyncAt'
  | 'lastWatchAt'
  | 'needsRelist'
  | 'relistReason'
  | 'lastError'
  | 'lastListCounts'
  | 'lastWatchCounts'
>

/**
 * Whole seconds since `at`. A timestamp ahead of our clock (another host's
 * skew) counts as just now rather than a negative age.
 */
export function ageSeconds(at: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - at.getTime()) / 1000))
}

const validDate = (value: unknown): Date | null =>
  value instanceof Date && !Number.isNaN(value.getTime()) ? value : null

/**
 * The verdict on one resource from its `sync_state` document (null: no
 * document, nothing ever ran). `scrub` makes stored error text safe to show.
 * Pure: the clock and the scrubber are the caller's.
 */
export function assessResource(
  resource: string,
  state: StateFields | null,
  now: Date,
  thresholds: FreshnessThresholds,
  scrub: (text: string) => string = (text) => text,
): ResourceHealth {
  const fullSync = validDate(state?.lastFullSyncAt)
  const watch = validDate(state?.lastWatchAt)
  const syncAge = fullSync ? ageSeconds(fullSync, now) : null
  const watchAge = watch ? ageSeconds(watch, now) : null
  const needsRelist = state?.needsRelist === true
  const reasons: HealthReason[] = []
  if (syncAge === null) reasons.push('never-synced')
  else if (syncAge > thresholds.maxSyncAgeSeconds) reasons.push('sync-stale')
  if (thresholds.maxWatchAgeSeconds > 0) {
    if (watchAge === null) reasons.push('watch-never-ran')
    else if (watchAge > thresholds.maxWatchAgeSeconds) reasons.push('watch-stale')
  }
  if (needsRelist) reasons.push('needs-relist')
  const error = state?.lastError
  const errorAt = validDate(error?.at)
  return {
    resource,
    healthy: reasons.length === 0,
    reasons,
    lastFullSyncAt: fullSync?.toISOString() ?? null,
    lastFullSyncAgeSeconds: syncAge,
    lastWatchAt: watch?.toISOString() ?? null,
    lastWatchAgeSeconds: watchAge,
    needsRelist,
    relistReason: needsRelist && state?.relistReason ? scrub(state.relistReason) : null,
    lastError:
      error && typeof error.message === 'string'
        ? { message: scrub(error.message), at: errorAt?.toISOString() ?? '' }
        : null,
    ...historyOf(state),
  }
}

/** A run's history counts from its saved checkpoint counts; none when it recorded no history. */
function historyCounts(counts: StateFields['lastListCounts']) {
  const written = counts?.historyWritten
  if (typeof written !== 'number') return null
  return { written, incomplete: counts?.historyIncomplete ?? 0 }
}

function historyOf(state: StateFields | null): Pick<ResourceHealth, 'history'> {
  const lastList = historyCounts(state?.lastListCounts)
  const lastWatch = historyCounts(state?.lastWatchCounts)
  return lastList || lastWatch ? { history: { lastList, lastWatch } } : {}
}

/** A resource whose state could not be read: MongoDB did not answer. */
export function unknownResource(resource: string): ResourceHealth {
  return {
    resource,
    healthy: false,
    reasons: ['mongo-unreachable'],
    lastFullSyncAt: null,
    lastFullSyncAgeSeconds: null,
    lastWatchAt: null,
    lastWatchAgeSeconds: null,
    needsRelist: false,
    relistReason: null,
    lastError: null,
  }
}

const describeReason: Record<HealthReason, (r: ResourceHealth, t: FreshnessThresholds) => string> =
  {
    'never-synced': () => 'no complete sync yet',
    'sync-stale': (r, t) =>
      `last complete sync ${r.lastFullSyncAgeSeconds} s ago (max ${t.maxSyncAgeSeconds} s)`,
    'watch-never-ran': () => 'no watch window yet',
    'watch-stale': (r, t) =>
      `last watch window ${r.lastWatchAgeSeconds} s ago (max ${t.maxWatchAgeSeconds} s)`,
    'needs-relist': (r) => `needs a relist${r.relistReason ? ` (${r.relistReason})` : ''}`,
    'mongo-unreachable': () => 'state unknown: MongoDB unreachable',
  }

/** One sentence per failed check, `v1/pods: last complete sync 2400 s ago (max 1800 s)`. */
export function problemsOf(
  resources: readonly ResourceHealth[],
  thresholds: FreshnessThresholds,
): string[] {
  return resources.flatMap((r) =>
    r.reasons.map((reason) => `${r.resource}: ${describeReason[reason](r, thresholds)}`),
  )
}
