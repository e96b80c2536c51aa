import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { MongoHealth } from '../store/connection/client.js'
import {
  assessClusters,
  clusterProblems,
  unknownClusters,
  type ClusterHealth,
  type ClusterResourceHealth,
  type FleetStates,
  type ManagedCluster,
} from './fleet.js'
import type { FreshnessThresholds } from './freshness.js'
import { safeText } from './safe-text.js'

/** The body of GET /health. */
export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy'
  readonly checkedAt: string
  /** The configured CLUSTER_NAME: the one cluster of a deployment without a registry. */
  readonly cluster: string
  /** The fault-tolerance contract's getMongoHealth(), plus why MongoDB could not be read (when it could not). */
  readonly mongo: MongoHealth & { readonly error?: string }
  readonly thresholds: FreshnessThresholds
  /** One sentence per failed check, empty when healthy. */
  readonly problems: readonly string[]
  /** Each managed cluster: the registry's, or the configured one alone. */
  readonly clusters: readonly ClusterHealth[]
  /** The managed clusters that are not fresh (ClusterHealth.stale). */
  readonly staleClusters: readonly string[]
  /** Clusters with sync_state that the registry does not list: shown, never counted, never touched. */
  readonly unmanagedClusters: readonly string[]
  /** Every managed cluster's resources, flattened (what the single-cluster body always had). */
  readonly resources: readonly ClusterResourceHealth[]
}

/** What the check reads; the Lambda wiring gives it MongoDB, unit tests give it fakes. */
export interface HealthPorts {
  /**
   * The registry, the managed clusters' `sync_state` (`configured` when there
   * is no registry) and the unmanaged clusters; rejects when MongoDB cannot be
   * reached.
   */
  readonly readFleet: (configured: ManagedCluster) => Promise<FleetStates>
  readonly mongoHealth: () => MongoHealth
  readonly now?: () => Date
}

/** What reading the fleet gave: the verdicts, or why there are none. */
interface Assessed {
  readonly clusters: ClusterHealth[]
  readonly unmanaged: readonly string[]
  readonly fromRegistry: boolean
  readonly now: Date
  readonly error?: string
}

async function assess(
  config: Config,
  ports: HealthPorts,
  thresholds: FreshnessThresholds,
): Promise<Assessed> {
  const configured: ManagedCluster = {
    name: config.clusterName,
    resources: config.resources.map((ref) => ref.id),
  }
  const clock = ports.now ?? (() => new Date())
  const started = clock()
  try {
    const fleet = await ports.readFleet(configured)
    // Ages from when the state was read, not from before a slow connect.
    const now = clock()
    const managed = fleet.registry ?? [configured]
    return {
      clusters: assessClusters(managed, fleet.states, now, thresholds, safeText),
      unmanaged: fleet.unmanaged,
      fromRegistry: fleet.registry !== undefined,
      now,
    }
  } catch (e) {
    // Which clusters the registry names is unknown too: the configured one stands for the fleet.
    return {
      clusters: unknownClusters([configured]),
      unmanaged: [],
      fromRegistry: false,
      now: started,
      error: safeText(messageOf(e)),
    }
  }
}

/**
 * Healthy when MongoDB answered and every resource of every managed cluster
 * is fresh. A failed read is an answer too (unhealthy, saying why), never a
 * thrown error: a health endpoint that fails cannot say what is wrong.
 */
export async function checkHealth(config: Config, ports: HealthPorts): Promise<HealthReport> {
  const thresholds: FreshnessThresholds = {
    maxSyncAgeSeconds: config.health.maxSyncAgeSeconds,
    maxWatchAgeSeconds: config.health.maxWatchAgeSeconds,
  }
  const { clusters, unmanaged, fromRegistry, now, error } = await assess(config, ports, thresholds)
  const mongo = ports.mongoHealth()
  const mongoOk = error === undefined && mongo.connected
  const healthy = mongoOk && clusters.every((c) => c.healthy)
  const problems = clusterProblems(clusters, thresholds, fromRegistry)
  if (error !== undefined) problems.unshift(`MongoDB: ${error}`)
  else if (!mongo.connected) problems.unshift('MongoDB: not connected')
  return {
    status: healthy ? 'healthy' : 'unhealthy',
    checkedAt: now.toISOString(),
    cluster: config.clusterName,
    mongo: error === undefined ? mongo : { ...mongo, error },
    thresholds,
    problems,
    clusters,
    staleClusters: clusters.filter((c) => c.stale).map((c) => c.cluster),
    unmanagedClusters: unmanaged,
    resources: clusters.flatMap((c) => c.resources),
  }
}
