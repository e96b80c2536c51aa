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
    // A dry run writes nothing, so it need not wait for (or block) a writer.
    lease: !input.dryRun,
    emptyReport: newReconcileReport,
    outputFields: { dryRun: Boolean(input.dryRun) },
    work: (resolved, store) =>
      reconcileResource({
        resolved,
        source: deps.source,
        store,
        signal: deadline.signal,
        remainingMs: deadline.remainingMs,
        ...(input.namespaces ? { namespaces: input.namespaces } : {}),
        ...(input.dryRun ? { dryRun: true } : {}),
      }),
  })
}
