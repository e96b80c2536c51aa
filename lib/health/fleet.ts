import {
  assessResource,
  problemsOf,
  unknownResource,
  type FreshnessThresholds,
  type HealthReason,
  type ResourceHealth,
  type StateFields,
} from './freshness.js'

/** A cluster the deployment manages: a registry entry, or the configured cluster alone. */
export interface ManagedCluster {
  readonly name: string
  /** ResourceRef ids, `v1/pods`. */
  readonly resources: readonly string[]
}

/** What the health check reads from MongoDB about the fleet. */
export interface FleetStates {
  /** The registry's clusters (sync_fleet); undefined when no plan ever wrote it. */
  readonly registry: readonly ManagedCluster[] | undefined
  /** cluster -> resource id -> its sync_state; a resource that never ran has none. */
  readonly states: ReadonlyMap<string, ReadonlyMap<string, StateFields>>
  /** Clusters with sync_state documents that the registry does not list (none without a registry). */
  readonly unmanaged: readonly string[]
}

/** One resource of one cluster, as GET /health lists it. */
export type ClusterResourceHealth = { readonly cluster: string } & ResourceHealth

/** One managed cluster's verdict. */
export interface ClusterHealth {
  readonly cluster: string
  /** Every resource of the cluster passes every check. */
  readonly healthy: boolean
  /** Some resource has no fresh enough complete sync or watch window (or never had one). */
  readonly stale: boolean
  readonly resources: readonly ClusterResourceHealth[]
}

/** The reasons that say the stored inventory is not fresh, as against needing a relist or being unknown. */
const STALE_REASONS: ReadonlySet<HealthReason> = new Set([
  'never-synced',
  'sync-stale',
  'watch-never-ran',
  'watch-stale',
])

function clusterOf(cluster: string, resources: ResourceHealth[]): ClusterHealth {
  const listed = resources.map((r) => ({ cluster, ...r }))
  return {
    cluster,
    healthy: listed.every((r) => r.healthy),
    stale: listed.some((r) => r.reasons.some((reason) => STALE_REASONS.has(reason))),
    resources: listed,
  }
}

/**
 * The verdict on each managed cluster from its sync_state documents. Pure:
 * the clock and the scrubber are the caller's.
 */
export function assessClusters(
  managed: readonly ManagedCluster[],
  states: FleetStates['states'],
  now: Date,
  thresholds: FreshnessThresholds,
  scrub: (text: string) => string,
): ClusterHealth[] {
  return managed.map((c) => {
    const mine = states.get(c.name)
    return clusterOf(
      c.name,
      c.resources.map((id) => assessResource(id, mine?.get(id) ?? null, now, thresholds, scrub)),
    )
  })
}

/** Clusters whose state could not be read: MongoDB did not answer. */
export function unknownClusters(managed: readonly ManagedCluster[]): ClusterHealth[] {
  return managed.map((c) => clusterOf(c.name, c.resources.map(unknownResource)))
}

/**
 * One sentence per failed check. With a registry each names its cluster
 * (`prod-eu: v1/pods: last complete sync 2400 s ago (max 1800 s)`); a
 * single-cluster deployment without one keeps the sentences it always had
 * (`v1/pods: ...`), the cluster being the report's `cluster`.
 */
export function clusterProblems(
  clusters: readonly ClusterHealth[],
  thresholds: FreshnessThresholds,
  namingClusters: boolean,
): string[] {
  return clusters.flatMap((c) =>
    problemsOf(c.resources, thresholds).map((p) => (namingClusters ? `${c.cluster}: ${p}` : p)),
  )
}
