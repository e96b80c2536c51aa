import pLimit from 'p-limit'
import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { ResolvedResource } from '../kube/types.js'
import { logger } from '../log.js'
import { parseResourceRef, type ResourceRef } from '../resource-ref.js'
import type { Deadline } from './deadline.js'
import { withLease } from '../store/bookkeeping/lease.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResourceStore } from '../store/resource-store.js'
import {
  newReconcileReport,
  reconcileResource,
  type ReconcileReport,
} from './reconcile-resource.js'

/**
 * Resources reconciled at once. Each already keeps BULK_WRITE_MAX_CONCURRENT
 * chunks in flight and one page fetch ahead; two resources keep both the API
 * server and MongoDB busy without piling up memory.
 */
export const RESOURCE_CONCURRENCY = 2

export interface ReconcileRunInput {
  readonly resources?: readonly string[]
  readonly namespaces?: readonly string[]
  readonly dryRun?: boolean
}

export interface ReconcileOutput {
  ok: boolean
  durationMs: number
  dryRun: boolean
  resources: ReconcileReport[]
}

export interface ReconcileRunDeps {
  readonly config: Config
  readonly source: ClusterSource
  readonly storeFor: (resolved: ResolvedResource) => ResourceStore
  readonly deadline: Deadline
  /** Identifies this invocation in leases (the Lambda request id). */
  readonly owner: string
}

export function selectResources(config: Config, ids: readonly string[] | undefined): ResourceRef[] {
  if (!ids) return [...config.resources]
  // Input was validated; an id outside SYNC_RESOURCES is still allowed for a manual resync.
  return ids.map((id) => parseResourceRef(id)).filter((r): r is ResourceRef => r !== undefined)
}

/** The reconcile function's work, free of Lambda: every selected resource, concurrently, each on its own. */
export async function runReconcile(
  deps: ReconcileRunDeps,
  input: ReconcileRunInput,
): Promise<ReconcileOutput> {
  const started = Date.now()
  const { deadline } = deps
  const limit = pLimit(RESOURCE_CONCURRENCY)
  const refs = selectResources(deps.config, input.resources)

  const one = async (ref: ResourceRef): Promise<ReconcileReport> => {
    const t0 = Date.now()
    if (deadline.signal.aborted)
      return newReconcileReport(ref.id, 'partial', 'deadline reached before this resource started')
    let resolved: ResolvedResource
    try {
      resolved = await deps.source.resolve(ref, deadline.signal)
    } catch (error) {
      return {
        ...newReconcileReport(ref.id, 'failed', messageOf(error)),
        durationMs: Date.now() - t0,
      }
    }
    const store = deps.storeFor(resolved)
    const run = () =>
      reconcileResource({
        resolved,
        source: deps.source,
        store,
        signal: deadline.signal,
        remainingMs: deadline.remainingMs,
        ...(input.namespaces ? { namespaces: input.namespaces } : {}),
        ...(input.dryRun ? { dryRun: true } : {}),
      })
    try {
      if (input.dryRun) return await run()
      const report = await withLease(store, deps.owner, deadline.remainingMs(), run)
      if (report) return report
      logger.info(`${ref.id}: lease held by another invocation, skipped`, {
        event: 'reconcile.skipped',
        resource: ref.id,
      })
      return {
        ...newReconcileReport(ref.id, 'skipped', 'another invocation holds the lease'),
        durationMs: Date.now() - t0,
      }
    } catch (error) {
      return {
        ...newReconcileReport(ref.id, 'failed', messageOf(error)),
        durationMs: Date.now() - t0,
      }
    }
  }

  const resources = await Promise.all(refs.map((ref) => limit(() => one(ref))))
  const output: ReconcileOutput = {
    ok: resources.every((r) => r.status === 'complete' || r.status === 'skipped'),
    durationMs: Date.now() - started,
    dryRun: Boolean(input.dryRun),
    resources,
  }
  logger.info(`reconcile ${output.ok ? 'succeeded' : 'finished with failures'}`, {
    event: 'reconcile.summary',
    ...output,
  })
  return output
}
