import pLimit from 'p-limit'
import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import { parseResourceRef, type ResourceRef } from '../resource-ref.js'
import type { ResourceStore } from '../store/resource-store.js'
import { boundedStore } from './bounded-store.js'
import { withLease, type LeaseLostError, type LeaseRefusal } from './lease-keeper.js'
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
  /**
   * One resource's work; the caller's lease is held (and renewed) around it
   * unless `lease` is false. `signal` is the deadline's, and fires too when
   * the lease is lost; `store` then refuses every call.
   */
  readonly work: (
    resolved: ResolvedResource,
    store: ResourceStore,
    signal: AbortSignal,
  ) => Promise<R>
  /** A dry run writes nothing and takes no lease (default: the lease is taken). */
  readonly lease?: boolean
  /**
   * A person asked for this run (any input but the schedule's `{}`): a
   * resource skipped because another invocation holds its lease was not done
   * as asked, so the run is not ok. Scheduled runs that overlap skip quietly.
   */
  readonly manual: boolean
  /** A report with every count at zero, for a resource that did not get to run its work. */
  readonly emptyReport: (resource: string, status: ResourceStatus, error: string) => R
  /** Fields of the run's output besides ok, durationMs and resources (reconcile's dryRun). */
  readonly outputFields: E
}

/** A run's output: one report per resource, and whether every one completed (or, scheduled, was left to another run). */
export type RunOutput<R, E extends object> = { ok: boolean; durationMs: number } & E & {
    resources: R[]
  }

function selectResources(config: Config, ids: readonly string[] | undefined): ResourceRef[] {
  if (!ids) return [...config.resources]
  // Input was validated (and merged); an id outside SYNC_RESOURCES is still allowed for a manual resync.
  const refs = ids
    .map((id) => parseResourceRef(id))
    .filter((r): r is ResourceRef => r !== undefined)
  // One task per resource, whoever called: two would race for one lease.
  return refs.filter((ref, i) => refs.findIndex((r) => r.id === ref.id) === i)
}

let tasks = 0

/**
 * The lease owner of one (invocation, resource) task: `<function>/<request id>#<n>`,
 * n counted per process. A lease is taken again by its own owner
 * (lib/store/bookkeeping/lease.ts), so two tasks sharing the invocation's id
 * could both hold one resource's lease; each task's own owner cannot.
 */
export function taskOwner(invocationOwner: string): string {
  tasks += 1
  return `${invocationOwner}#${tasks}`
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
  const cluster = deps.config.clusterName
  const resources = await Promise.all(
    refs.map((ref) => limit(async () => ({ cluster, ...(await runOne(deps, fanOut, ref)) }))),
  )
  const output: RunOutput<R, E> = {
    ok: resources.every(
      (r) => r.status === 'complete' || (r.status === 'skipped' && !fanOut.manual),
    ),
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
    // Every MongoDB call, the lease's too, settles before the invocation's time is up.
    const store = boundedStore(deps.storeFor(resolved), deadline)
    if (fanOut.lease === false) return await fanOut.work(resolved, store, deadline.signal)
    const leased = await withLease(
      store,
      { owner: taskOwner(deps.owner), resource: ref.id, ...deps.config.lease },
      (lease) =>
        fanOut.work(
          resolved,
          storeUnderLease(store, lease),
          AbortSignal.any([deadline.signal, lease]),
        ),
    )
    if (!leased.acquired) return skipped(fanOut, ref, leased, notRun)
    return leased.lost ? failedForLostLease(leased.value, leased.lost) : leased.value
  } catch (error) {
    return notRun('failed', messageOf(error))
  }
}

/** Another invocation holds the lease: the report says whose, and until when. */
function skipped<R extends ResourceReport, E extends object>(
  fanOut: FanOut<R, E>,
  ref: ResourceRef,
  refusal: LeaseRefusal,
  notRun: (status: ResourceStatus, error: string) => R,
): R {
  const expiresAt = refusal.expiresAt?.toISOString()
  const error = `another invocation holds the lease: ${refusal.holder ?? 'unknown'}, until ${expiresAt ?? 'unknown'}`
  // A person who asked for this resource needs to hear it was not done; a schedule does not.
  logger[fanOut.manual ? 'warn' : 'info'](`${ref.id}: skipped, ${error}`, {
    event: `${fanOut.name}.skipped`,
    resource: ref.id,
    holder: refusal.holder,
    expiresAt,
  })
  return notRun('skipped', error)
}

/** The work stopped because its lease was lost: whatever it counted stands, but it failed. */
function failedForLostLease<R extends ResourceReport>(report: R, lost: LeaseLostError): R {
  return { ...report, status: 'failed', error: lost.message }
}

/**
 * The store as the work sees it under a lease: once the lease is lost, every
 * call is refused with the LeaseLostError. The work also stops on the signal,
 * but not every step looks at it (a complete list saves its checkpoint after
 * its deletes, counting on the deadline's margin); a lost lease has no margin:
 * another invocation may be writing the resource already.
 */
function storeUnderLease(store: ResourceStore, lease: AbortSignal): ResourceStore {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key)
      if (typeof value !== 'function') return value
      return (...args: unknown[]): unknown =>
        lease.aborted
          ? Promise.reject(lease.reason as Error)
          : (value as (...a: unknown[]) => unknown).apply(target, args)
    },
  })
}
