import { forEachResource, type RunOutput } from './fan-out.js'
import type { RunDependencies } from './run-dependencies.js'
import { newWatchReport, watchResource, type WatchReport } from './watch-resource.js'

/** Watches are mostly idle waits: every resource gets its own, at once, up to this many. */
const WATCH_CONCURRENCY = 16

export interface WatchRunInput {
  readonly resources?: readonly string[]
  readonly windowSeconds?: number
  /** A person asked for this run (default: resources named); planned tasks are the schedule's. */
  readonly manual?: boolean
}

export type WatchOutput = RunOutput<WatchReport, object>

/** The watch function's work, free of Lambda: one bounded window per resource, concurrently. */
export function runWatch(deps: RunDependencies, input: WatchRunInput): Promise<WatchOutput> {
  const { deadline, config } = deps
  const windowMs = (input.windowSeconds ?? config.watchWindowSeconds) * 1000
  // The window never runs into the deadline: the deadline already keeps a safety margin.
  const windowEndsAt = Math.min(Date.now() + windowMs, deadline.at)
  return forEachResource(deps, {
    name: 'watch',
    concurrency: WATCH_CONCURRENCY,
    resources: input.resources,
    // Resources named by a person; `windowSeconds` alone only shapes a window, as the schedule's.
    manual: input.manual ?? input.resources !== undefined,
    emptyReport: newWatchReport,
    outputFields: {},
    work: (resolved, store, signal) =>
      watchResource({
        resolved,
        source: deps.source,
        store,
        signal,
        windowEndsAt,
        maxBatch: config.bulkWrite.batchSize,
        remainingMs: deadline.remainingMs,
        massDelete: config.massDelete,
      }),
  })
}
