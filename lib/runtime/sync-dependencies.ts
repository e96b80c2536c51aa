import { SQSClient } from '@aws-sdk/client-sqs'
import type { Db } from 'mongodb'
import { discoverEksClusters } from '../aws/eks-discovery.js'
import { fetchSecretString } from '../aws/secret-string.js'
import type { Config } from '../config.js'
import { kubeconfigSourceOf } from '../fleet/cluster-credentials.js'
import { loadFleet, type Fleet, type FleetCluster } from '../fleet/registry.js'
import { scopedSource } from '../fleet/scoped-source.js'
import { clusterSource } from '../kube/cluster-source.js'
import { openKubeClient } from '../kube/open-client.js'
import type { Guard } from '../resilience/circuit-breaker.js'
import type { SecretValuePolicy } from '../secret-policy.js'
import { mongoResourceStore } from '../store/resource-store.js'
import type { RunDependencies } from '../sync/run-dependencies.js'
import { mongoUri, secretValuePolicy } from './fetched-secrets.js'
import type { Invocation } from './invocation.js'

/**
 * What the sync functions run on: one invocation's MongoDB, and the
 * dependencies of any cluster of the fleet on demand (its client behind its
 * own breaker, its view of the configuration).
 */
export interface SyncRuntime {
  readonly invocation: Invocation
  readonly config: Config
  readonly db: Db
  readonly mongoGuard: Guard
  /** The registry (read now: CLUSTERS_SECRET_ID and EKS discovery are asked at every plan). */
  loadFleet(this: void): Promise<Fleet>
  /** One cluster's run dependencies; a credentials problem rejects for that cluster alone. */
  forCluster(this: void, cluster: FleetCluster): Promise<RunDependencies>
  /** The work queues' client (AWS_ENDPOINT_URL_SQS reaches a local one). */
  sqs(this: void): SQSClient
}

/** The configuration as one cluster's run sees it: its name, its resources. */
export function clusterConfig(config: Config, cluster: FleetCluster): Config {
  if (cluster.name === config.clusterName && cluster.resources === config.resources) return config
  return { ...config, clusterName: cluster.name, resources: cluster.resources }
}

export async function createSyncRuntime(invocation: Invocation): Promise<SyncRuntime> {
  const { config, secrets, deadline, container } = invocation
  const secretsPolicy = secretValuePolicy(config, secrets)
  const uri = mongoUri(config, secrets)
  // A warm container that saw MongoDB fail keeps its breaker open: fail now, not after every retry.
  const mongoGuard = container.breakers.guardOf('mongodb')
  const db = await mongoGuard(() => container.mongo.connectDB({ uri, signal: deadline.signal }))
  let sqs: SQSClient | undefined
  return {
    sqs: () => (sqs ??= new SQSClient({})),
    invocation,
    config,
    db,
    mongoGuard,
    loadFleet: () =>
      loadFleet(config, {
        fetchSecret: (id) => fetchSecretString(id),
        discover: ({ tagKey, tagValue, region, nameTag }) =>
          discoverEksClusters({ tagKey, tagValue, regions: [region], nameTag }),
      }),
    forCluster: (cluster) =>
      clusterDependencies(invocation, { db, mongoGuard, secretsPolicy }, cluster),
  }
}

async function clusterDependencies(
  invocation: Invocation,
  mongo: { readonly db: Db; readonly mongoGuard: Guard; readonly secretsPolicy: SecretValuePolicy },
  cluster: FleetCluster,
): Promise<RunDependencies> {
  const { secrets, deadline, owner, container } = invocation
  const config = clusterConfig(invocation.config, cluster)
  const source = await kubeconfigSourceOf(cluster, { config, secrets, roles: container.roles })
  const kube = await openKubeClient(source, {
    requestTimeoutMs: config.k8s.requestTimeoutMs,
    guard: container.clusterBreakers(cluster.name).guardOf('kubernetes'),
    allowInsecureTls: config.allowInsecureTls,
  })
  return {
    config,
    source: scopedSource(clusterSource(kube, config), cluster.namespaces),
    storeFor: (resolved) =>
      mongoResourceStore(mongo.db, resolved, {
        config,
        secrets: mongo.secretsPolicy,
        guard: mongo.mongoGuard,
        pacing: container.pacing,
      }),
    deadline,
    owner,
  }
}
