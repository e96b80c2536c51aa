import pLimit from 'p-limit'
import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import { parseResourceRef, type ResourceRef } from '../resource-ref.js'
import { withLease } from '../store/bookkeeping/lease.js'
import type { ResourceStore } from '../store/resource-store.js'
import type { ResourceReport, ResourceStatus } from './resource-report.js'
import type { RunDependencies } from './run-dependencies.js'

/** How one run (reconcile or watch) goes over its resources. */
export interface FanOut<R extends ResourceReport, E extends object> {
  /** `reconcile` or `watch`: names the log events (`<name>.skipped`, `<name>.summary`). */
  readonly name: string
  /** Resources worked on at once. */
  readonly concurrency: number
  /** The resource ids asked for; none: every resource of SYNC_RESOURCES. */
  readonly resources: readonly string[] | undefined
  /** One resource's work; the caller's lease is held around it unless `lease` is false. */
  readonly work: (resolved: ResolvedResource, store: ResourceStore) => Promise<R>
  /** A dry run writes nothing and takes no lease (default: the lease is taken). */
  readonly lease?: boolean
  /** A report with every count at zero, for a resource that did not get to run its work. */
  readonly emptyReport: (resource: string, status: ResourceStatus, error: string) => R
  /** Fields of the run's output besides ok, durationMs and resources (reconcile's dryRun). */
  readonly outputFields: E
}

/** A run's output: one report per resource, and whether every one completed (or was left to another run). */
export type RunOutput<R, E extends object> = { ok: boolean; durationMs: number } & E & {
    resources: R[]
  }

function selectResources(config: Config, ids: readonly string[] | undefined): ResourceRef[] {
  if (!ids) return [...config.resources]
  // Input was validated; an id outside SYNC_RESOURCES is still allowed for a manual resync.
  return ids.map((id) => parseResourceRef(id)).filter((r): r is ResourceRef => r !== undefined)
}

/**
 * Runs `fanOut.work` for every selected resource, `concurrency` at a time,
 * each on its own: a resource that fails, or whose lease another invocation
 * holds, gets its report and the others go on. Logs the run's summary.
 */
export async function forEachResource<R extends ResourceReport, E extends object>(
  deps: RunDependencies,
  fanOut: FanOut<R, E>,
): Promise<RunOutput<R, E>> {
  const started = Date.now()
  const limit = pLimit(fanOut.concurrency)
  const refs = selectResources(deps.config, fanOut.resources)
  const resources = await Promise.all(refs.map((ref) => limit(() => runOne(deps, fanOut, ref))))
  const output: RunOutput<R, E> = {
    ok: resources.every((r) => r.status === 'complete' || r.status === 'skipped'),
    durationMs: Date.now() - started,
    ...fanOut.outputFields,
    resources,
  }
  logger.info(`${fanOut.name} ${output.ok ? 'succeeded' : 'finished with failures'}`, {
    event: `${fanOut.name}.summary`,
    ...output,
  })
  return output
}

async function runOne<R extends ResourceReport, E extends object>(
  deps: RunDependencies,
  fanOut: FanOut<R, E>,
  ref: ResourceRef,
): Promise<R> {
  const { deadline } = deps
  const started = Date.now()
  const notRun = (status: ResourceStatus, error: string): R => ({
    ...fanOut.emptyReport(ref.id, status, error),
    durationMs: Date.now() - started,
  })
  if (deadline.signal.aborted)
    return notRun('partial', 'deadline reached before this resource started')
  try {
    const resolved = await deps.source.resolve(ref, deadline.signal)
    const store = deps.storeFor(resolved)
    const work = () => fanOut.work(resolved, store)
    if (fanOut.lease === false) return await work()
    const report = await withLease(store, deps.owner, deadline.remainingMs(), work)
    if (report) return report
    logger.info(`${ref.id}: lease held by another invocation, skipped`, {
      event: `${fanOut.name}.skipped`,
      resource: ref.id,
    })
    return notRun('skipped', 'another invocation holds the lease')
  } catch (error) {
    return notRun('failed', messageOf(error))
  }
}
