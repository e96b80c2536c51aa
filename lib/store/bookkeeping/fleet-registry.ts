import type { Collection, Db } from 'mongodb'
import { isDuplicateKeyError } from '../connection/driver-errors.js'

/*
 * sync_fleet: what the fleet is, as the last plan saw it
 * (docs/design.md#bookkeeping-collections). One document, `_id: "registry"`,
 * rewritten whole by every plan (and inline run): the clusters it planned and
 * each one's resources. The health function reads it by `_id` to know which
 * clusters are managed; a cluster with sync_state but not in it is
 * "unmanaged": shown, never touched. Without it (a single-cluster deployment
 * that never planned) readers fall back to CLUSTER_NAME and SYNC_RESOURCES.
 */

export const FLEET_COLLECTION = 'sync_fleet'
export const REGISTRY_ID = 'registry'

/** One managed cluster: its registry name and the resources planned for it (ResourceRef ids). */
export interface FleetCluster {
  readonly name: string
  /** ResourceRef ids, `v1/pods`, `apps/v1/deployments`. */
  readonly resources: readonly string[]
}

export interface FleetRegistry {
  readonly clusters: readonly FleetCluster[]
  /** When the plan that wrote it ran. */
  readonly plannedAt: Date
}

interface RegistryDocument {
  _id: typeof REGISTRY_ID
  clusters: Array<{ name: string; resources: string[] }>
  plannedAt: Date
}

function fleetOf(db: Db): Collection<RegistryDocument> {
  return db.collection<RegistryDocument>(FLEET_COLLECTION)
}

/**
 * Replaces the registry with this fleet: the whole fleet, not the part of it
 * one manual plan chose (a subset would make the rest look unmanaged). Plans
 * write it whole and the last one wins, so no merge is needed. An upsert
 * racing another plan's on FerretDB may fail with a duplicate key; the
 * document then exists and a plain replace lands.
 */
export async function saveFleetRegistry(db: Db, registry: FleetRegistry): Promise<void> {
  const doc: RegistryDocument = {
    _id: REGISTRY_ID,
    clusters: registry.clusters.map((c) => ({ name: c.name, resources: [...c.resources] })),
    plannedAt: registry.plannedAt,
  }
  const fleet = fleetOf(db)
  try {
    await fleet.replaceOne({ _id: REGISTRY_ID }, doc, { upsert: true })
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error
    await fleet.replaceOne({ _id: REGISTRY_ID }, doc)
  }
}

/**
 * The registry, read by `_id` (one index look-up on every server);
 * undefined when no plan ever wrote it. A document that is not shaped as
 * saveFleetRegistry writes it (edited by hand) is an error naming what is
 * wrong, never a guess at the fleet.
 */
export async function readFleetRegistry(db: Db): Promise<FleetRegistry | undefined> {
  const doc = await fleetOf(db).findOne({ _id: REGISTRY_ID })
  if (!doc) return undefined
  return parseRegistry(doc)
}

const malformed = (what: string) =>
  new Error(`${FLEET_COLLECTION} document "${REGISTRY_ID}" is malformed: ${what}`)

function parseRegistry(doc: Record<string, unknown>): FleetRegistry {
  const { clusters, plannedAt } = doc
  if (!(plannedAt instanceof Date) || Number.isNaN(plannedAt.getTime()))
    throw malformed('plannedAt is not a date')
  if (!Array.isArray(clusters)) throw malformed('clusters is not an array')
  const parsed = clusters.map((entry: unknown, i): FleetCluster => {
    const { name, resources } = (entry ?? {}) as { name?: unknown; resources?: unknown }
    if (typeof name !== 'string' || name === '')
      throw malformed(`clusters[${i}].name is not a name`)
    if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string'))
      throw malformed(`clusters[${i}].resources (${name}) is not a list of resource ids`)
    return { name, resources }
  })
  return { clusters: parsed, plannedAt }
}
