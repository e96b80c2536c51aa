import {
  DescribeClusterCommand,
  EKSClient,
  paginateListClusters,
  ResourceNotFoundException,
  type Cluster,
} from '@aws-sdk/client-eks'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import pLimit from 'p-limit'
import { SyncError } from '../errors.js'

/** A cluster found by its tag: `name` is the registry's, `eksClusterName` the AWS one. */
export interface DiscoveredEksCluster {
  readonly name: string
  readonly eksClusterName: string
  readonly region: string
}

export interface EksDiscoveryOptions {
  /** EKS_DISCOVERY_TAG `key=value`, split. */
  readonly tagKey: string
  readonly tagValue: string
  readonly regions: readonly string[]
  /** EKS_DISCOVERY_NAME_TAG: the tag whose value names a cluster (else its EKS name). */
  readonly nameTag: string
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
  /** DescribeCluster calls in flight at once, over all regions (EKS throttles its API). */
  readonly concurrency?: number
  /** ListClusters page size (at most 100, the default). */
  readonly pageSize?: number
}

const DEFAULT_CONCURRENCY = 8

/**
 * Every EKS cluster in `regions` carrying the tag `tagKey=tagValue`, sorted by
 * name. ListClusters does not return tags, so each cluster is described. A
 * region that cannot be listed or described fails the whole discovery with
 * an error naming it: the caller decides whether a partial fleet will do.
 */
export async function discoverEksClusters(
  options: EksDiscoveryOptions,
): Promise<DiscoveredEksCluster[]> {
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY)
  const results = await Promise.allSettled(
    options.regions.map((region) => discoverInRegion(region, options, limit)),
  )
  const failures = results.flatMap((result, i) =>
    result.status === 'rejected'
      ? [{ region: options.regions[i], error: result.reason as unknown }]
      : [],
  )
  if (failures.length > 0) {
    const detail = failures
      .map(({ region, error }) => `${region}: ${(error as Error).message}`)
      .join('; ')
    throw new SyncError(`EKS discovery failed in ${failures.length} region(s): ${detail}`, {
      context: { operation: 'eks-discovery' },
      cause: failures[0]?.error,
    })
  }
  return results
    .flatMap((result) => (result.status === 'fulfilled' ? result.value : []))
    .sort((a, b) => compare(a.name, b.name) || compare(a.region, b.region))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function discoverInRegion(
  region: string,
  options: EksDiscoveryOptions,
  limit: ReturnType<typeof pLimit>,
): Promise<DiscoveredEksCluster[]> {
  const client = new EKSClient({
    region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  })
  try {
    const names: string[] = []
    const pages = paginateListClusters({ client, pageSize: options.pageSize }, {})
    for await (const page of pages) names.push(...(page.clusters ?? []))
    const described = await Promise.all(
      names.map((name) => limit(() => describeOrSkip(client, name))),
    )
    return described.flatMap((cluster) => {
      const found = cluster && discovered(cluster, region, options)
      return found ? [found] : []
    })
  } finally {
    client.destroy()
  }
}

/** A cluster deleted between the listing and its description is no longer there: skipped. */
async function describeOrSkip(client: EKSClient, name: string): Promise<Cluster | undefined> {
  try {
    return (await client.send(new DescribeClusterCommand({ name }))).cluster
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined
    throw new SyncError(`eks:DescribeCluster ${name} failed: ${(error as Error).message}`, {
      context: { operation: 'eks:DescribeCluster' },
      cause: error,
    })
  }
}

function discovered(
  cluster: Cluster,
  region: string,
  options: EksDiscoveryOptions,
): DiscoveredEksCluster | undefined {
  const tags = cluster.tags ?? {}
  if (!cluster.name || tags[options.tagKey] !== options.tagValue) return undefined
  const named = tags[options.nameTag]
  return { name: named ? named : cluster.name, eksClusterName: cluster.name, region }
}
