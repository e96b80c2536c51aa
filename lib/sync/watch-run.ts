import pLimit from 'p-limit'
import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import type { ResourceRef } from '../resource-ref.js'
import type { Deadline } from './deadline.js'
import { withLease } from '../store/bookkeeping/lease.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResourceStore } from '../store/resource-store.js'
import { selectResources } from './reconcile-run.js'
import { newWatchReport, watchResource, type WatchReport } from './watch-resource.js'

/** Watches are mostly idle waits: every resource gets its own, at once, up to this many. */
export const WATCH_CONCURRENCY = 16

export interface WatchRunInput {
  readonly resources?: readonly string[]
  readonly windowSeconds?: number
}

export interface WatchOutput {
  ok: boolean
  durationMs: number
  resources: WatchReport[]
}

export interface WatchRunDeps {
  readonly config: Config
  readonly source: ClusterSource
  readonly storeFor: (resolved: ResolvedResource) => ResourceStore
  readonly deadline: Deadline
  readonly owner: string
}

/** The watch function's work, free of Lambda: one bounded window per resource, concurrently. */
export async function runWatch(deps: WatchRunDeps, input: WatchRunInput): Promise<WatchOutput> {
  const started = Date.now()
  const { deadline, config } = deps
  const windowMs = (input.windowSeconds ?? config.watchWindowSeconds) * 1000
  // The window never runs into the deadline: the deadline already keeps a safety margin.
  const windowEndsAt = Math.min(started + windowMs, deadline.at)
  const limit = pLimit(WATCH_CONCURRENCY)

  const one = async (ref: ResourceRef): Promise<WatchReport> => {
    const t0 = Date.now()
    try {
      const resolved = await deps.source.resolve(ref, deadline.signal)
      const store = deps.storeFor(resolved)
      const report = await withLease(store, deps.owner, deadline.remainingMs(), () =>
        watchResource({
          resolved,
          source: deps.source,
          store,
          signal: deadline.signal,
          windowEndsAt,
          maxBatch: config.bulkWrite.batchSize,
          remainingMs: deadline.remainingMs,
        }),
      )
      if (report) return report
      logger.info(`${ref.id}: lease held by another invocation, skipped`, {
        event: 'watch.skipped',
        resource: ref.id,
      })
      return {
        ...newWatchReport(ref.id, 'skipped', 'another invocation holds the lease'),
        durationMs: Date.now() - t0,
      }
    } catch (error) {
      return { ...newWatchReport(ref.id, 'failed', messageOf(error)), durationMs: Date.now() - t0 }
    }
  }

  const resources = await Promise.all(
    selectResources(config, input.resources).map((ref) => limit(() => one(ref))),
  )
  const output: WatchOutput = {
    ok: resources.every((r) => r.status === 'complete' || r.status === 'skipped'),
    durationMs: Date.now() - started,
    resources,
  }
  logger.info(`watch ${output.ok ? 'succeeded' : 'finished with failures'}`, {
    event: 'watch.summary',
    ...output,
  })
  return output
}
