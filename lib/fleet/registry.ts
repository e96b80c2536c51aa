import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import { logger } from '../log.js'
import type { ResourceRef } from '../resource-ref.js'
import { clusterNamePattern, parseRegistry, type ClusterEntry } from './registry-schema.js'

/** Where one cluster's credentials come from: a registry entry, or the single-cluster settings. */
export type ClusterCredentials =
  Omit<ClusterEntry, 'name' | 'resources' | 'namespaces'> | 'configured'

/** One cluster of the fleet, as the functions work it. */
export interface FleetCluster {
  readonly name: string
  /** Its resources: the entry's, or SYNC_RESOURCES. */
  readonly resources: readonly ResourceRef[]
  /** Its lists and watches are limited to these namespaces (the entry's `namespaces`). */
  readonly namespaces?: readonly string[]
  /** `configured`: KUBECONFIG_SECRET_ID, EKS_CLUSTER_NAME or KUBECONFIG, as a one-cluster deployment. */
  readonly credentials: ClusterCredentials
}

export interface Fleet {
  readonly clusters: readonly FleetCluster[]
  /** A registry is configured (CLUSTERS, CLUSTERS_SECRET_ID or EKS discovery): plan, don't run inline. */
  readonly registry: boolean
  /** What went wrong without stopping the rest (a discovery region that failed). */
  readonly problems: readonly string[]
}

/** A discovered EKS cluster (lib/aws/eks-discovery.ts). */
export interface DiscoveredCluster {
  readonly name: string
  readonly eksClusterName: string
  readonly region: string
}

/** What loading the registry needs from AWS; the runtime wires the SDK, unit tests fakes. */
export interface RegistryPorts {
  readonly fetchSecret: (secretId: string) => Promise<string>
  readonly discover: (options: {
    readonly tagKey: string
    readonly tagValue: string
    readonly region: string
    readonly nameTag: string
  }) => Promise<readonly DiscoveredCluster[]>
}

/** A registry entry as the functions work it. */
export function fleetClusterOf(
  entry: ClusterEntry,
  defaults: readonly ResourceRef[],
): FleetCluster {
  const { name, resources, namespaces, ...credentials } = entry
  return {
    name,
    resources: resources ?? defaults,
    ...(namespaces ? { namespaces } : {}),
    credentials,
  }
}

/** The one cluster of a deployment without a registry: exactly what it was before fleets. */
export function configuredCluster(config: Config): FleetCluster {
  return { name: config.clusterName, resources: config.resources, credentials: 'configured' }
}

/**
 * The fleet: the registry (CLUSTERS, or CLUSTERS_SECRET_ID read now) plus the
 * EKS clusters discovered by tag; without any, the one configured cluster.
 * A bad registry fails with every bad entry named; a discovery region that
 * fails is a problem of this plan, not a failure of the clusters listed.
 */
export async function loadFleet(config: Config, ports: RegistryPorts): Promise<Fleet> {
  const { clusters: inline, clustersSecretId, discovery } = config.fleet
  if (!inline && !clustersSecretId && !discovery) {
    return { clusters: [configuredCluster(config)], registry: false, problems: [] }
  }
  const listed = clustersSecretId
    ? parseRegistry(
        await ports.fetchSecret(clustersSecretId),
        `CLUSTERS_SECRET_ID ${clustersSecretId}`,
      )
    : (inline ?? [])
  const clusters = listed.map((entry) => fleetClusterOf(entry, config.resources))
  const problems: string[] = []
  if (discovery) {
    const regions = discovery.regions ?? [process.env.AWS_REGION ?? 'us-east-1']
    for (const region of regions) {
      try {
        const found = await ports.discover({
          tagKey: discovery.tag.key,
          tagValue: discovery.tag.value,
          region,
          nameTag: discovery.nameTag,
        })
        for (const d of found) addDiscovered(clusters, d, config.resources, problems)
      } catch (error) {
        problems.push(`EKS discovery in ${region} failed: ${messageOf(error)}`)
      }
    }
  }
  for (const problem of problems) logger.error(problem, { event: 'fleet.problem' })
  return { clusters, registry: true, problems }
}

function addDiscovered(
  clusters: FleetCluster[],
  found: DiscoveredCluster,
  defaults: readonly ResourceRef[],
  problems: string[],
): void {
  if (!clusterNamePattern.test(found.name)) {
    problems.push(
      `discovered EKS cluster ${found.eksClusterName} (${found.region}): "${found.name}" is not a DNS label; give it one with the name tag`,
    )
    return
  }
  // A listed entry wins over a discovered cluster of the same name: it says more (a role, resources).
  if (clusters.some((c) => c.name === found.name)) return
  clusters.push({
    name: found.name,
    resources: defaults,
    credentials: { eksClusterName: found.eksClusterName, region: found.region },
  })
}

/** The clusters a person named, in the fleet; an unknown name is an error naming it. */
export function selectClusters(fleet: Fleet, names: readonly string[] | undefined): FleetCluster[] {
  if (!names) return [...fleet.clusters]
  const unknown = names.filter((n) => !fleet.clusters.some((c) => c.name === n))
  if (unknown.length > 0) {
    const known = fleet.clusters.map((c) => c.name).join(', ')
    throw new UnknownClusterError(
      `cluster(s) ${unknown.map((n) => `"${n}"`).join(', ')} not in the registry (it lists: ${known})`,
    )
  }
  return fleet.clusters.filter((c) => names.includes(c.name))
}

export class UnknownClusterError extends Error {
  override readonly name = 'UnknownClusterError'
}
