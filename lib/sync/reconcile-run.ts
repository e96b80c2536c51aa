import { forEachResource, type RunOutput } from './fan-out.js'
import {
  newReconcileReport,
  reconcileResource,
  type ReconcileReport,
} from './reconcile-resource.js'
import type { RunDependencies } from './run-dependencies.js'

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
  /** Applies deletes the mass-delete guard would hold (docs/operations.md#deletes-held). */
  readonly confirmDeletes?: boolean
  /**
   * A person asked for this run (default: any field set). A planned task names
   * its resource but is the schedule's: a lease held elsewhere (a duplicate
   * delivery) is a quiet skip, not a failure.
   */
  readonly manual?: boolean
}

export type ReconcileOutput = RunOutput<ReconcileReport, { dryRun: boolean }>

/** The reconcile function's work, free of Lambda: every selected resource, concurrently, each on its own. */
export function runReconcile(
  deps: RunDependencies,
  input: ReconcileRunInput,
): Promise<ReconcileOutput> {
  const { deadline } = deps
  return forEachResource(deps, {
    name: 'reconcile',
    concurrency: RESOURCE_CONCURRENCY,
    resources: input.resources,
    // Every field is a person's request (a resync of some resources or
    // namespaces, a dry run, confirmed deletes); the schedule sends `{}`.
    manual: input.manual ?? Object.values(input).some((value) => value !== undefined),
    // A dry run writes nothing, so it need not wait for (or block) a writer.
    lease: !input.dryRun,
    emptyReport: newReconcileReport,
    outputFields: { dryRun: Boolean(input.dryRun) },
    work: (resolved, store, signal) =>
      reconcileResource({
        resolved,
        source: deps.source,
        store,
        signal,
        remainingMs: deadline.remainingMs,
        massDelete: deps.config.massDelete,
        ...(input.namespaces ? { namespaces: input.namespaces } : {}),
        ...(input.dryRun ? { dryRun: true } : {}),
        ...(input.confirmDeletes ? { confirmDeletes: true } : {}),
      }),
  })
}
