import { logger } from '../log.js'
import { errorFields } from '../log.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { saveFleetRegistry } from '../store/bookkeeping/fleet-registry.js'
import type { Fleet } from './registry.js'

/**
 * Writes the fleet's cluster names and resources where the health function
 * reads them (`sync_fleet`, docs/design.md#bookkeeping-collections): the
 * health function needs no registry secret and no EKS discovery of its own.
 * Only a registry is recorded; a one-cluster deployment's health reads its
 * settings. A failed write is logged, never fatal: the plan matters more
 * (unless `required`: a forget must not go on without it).
 */
export async function recordFleet(
  runtime: SyncRuntime,
  fleet: Fleet,
  options: { readonly required?: boolean } = {},
): Promise<void> {
  if (!fleet.registry) return
  try {
    await runtime.mongoGuard(() =>
      saveFleetRegistry(runtime.db, {
        clusters: fleet.clusters.map((c) => ({
          name: c.name,
          resources: c.resources.map((r) => r.id),
        })),
        plannedAt: new Date(),
      }),
    )
  } catch (error) {
    if (options.required) throw error
    logger.warn('could not record the fleet for the health check', {
      event: 'fleet.record-failed',
      ...errorFields(error),
    })
  }
}
