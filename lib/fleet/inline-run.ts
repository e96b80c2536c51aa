import pLimit from 'p-limit'
import { messageOf } from '../errors.js'
import { logger, withLogFields } from '../log.js'
import type { RunDependencies } from '../sync/run-dependencies.js'
import type { ResourceReport, ResourceStatus } from '../sync/resource-report.js'
import type { RunOutput } from '../sync/fan-out.js'
import type { FleetCluster } from './registry.js'
import { resourcesOf } from './plan.js'

export interface InlineRun<R extends ResourceReport, E extends object> {
  readonly name: string
  /** Clusters worked at once. */
  readonly concurrency: number
  readonly clusters: readonly FleetCluster[]
  readonly resources: readonly string[] | undefined
  readonly forCluster: (cluster: FleetCluster) => Promise<RunDependencies>
  readonly run: (deps: RunDependencies, cluster: FleetCluster) => Promise<RunOutput<R, E>>
  readonly emptyReport: (resource: string, status: ResourceStatus, error: string) => R
  readonly outputFields: E
}

/**
 * Runs clusters in this invocation, each on its own: a cluster whose
 * credentials fail (a missing secret, a role it cannot assume) gets a failed
 * report per resource, and the others go on (docs/design.md#invariant-8-fleets).
 * With one cluster the output is that cluster's run, as before fleets.
 */
export async function runInline<R extends ResourceReport, E extends object>(
  spec: InlineRun<R, E>,
): Promise<RunOutput<R, E>> {
  const started = Date.now()
  const limit = pLimit(Math.max(1, spec.concurrency))
  const outputs = await Promise.all(
    spec.clusters.map((cluster) =>
      limit(() =>
        // Every line this cluster's run logs names it, however deep (lib/log.ts).
        withLogFields({ cluster: cluster.name }, async (): Promise<RunOutput<R, E>> => {
          let deps: RunDependencies
          try {
            deps = await spec.forCluster(cluster)
          } catch (error) {
            // Alone, its failure is the invocation's, with its message, as before fleets.
            if (spec.clusters.length === 1) throw error
            return clusterFailed(spec, cluster, Date.now() - started, messageOf(error))
          }
          return spec.run(deps, cluster)
        }),
      ),
    ),
  )
  if (outputs.length === 1) return outputs[0]!
  return {
    ok: outputs.every((o) => o.ok),
    durationMs: Date.now() - started,
    ...spec.outputFields,
    resources: outputs.flatMap((o) => o.resources),
  }
}

function clusterFailed<R extends ResourceReport, E extends object>(
  spec: InlineRun<R, E>,
  cluster: FleetCluster,
  durationMs: number,
  error: string,
): RunOutput<R, E> {
  logger.error(`${cluster.name}: ${error}`, {
    event: `${spec.name}.cluster-failed`,
    cluster: cluster.name,
  })
  const resources = resourcesOf(cluster, spec.resources).map((id) => ({
    ...spec.emptyReport(id, 'failed', error),
    cluster: cluster.name,
    durationMs,
  }))
  return { ok: false, durationMs, ...spec.outputFields, resources }
}
