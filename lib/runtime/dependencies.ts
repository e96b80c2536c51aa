import { defaultProvider } from '@aws-sdk/credential-provider-node'
import type { Db } from 'mongodb'
import { describeEksCluster } from '../aws/eks-cluster.js'
import { eksTokenProvider } from '../aws/eks-token.js'
import type { Config } from '../config.js'
import { SyncError } from '../errors.js'
import { createKubeClient, type KubeconfigSource } from '../kube/client.js'
import type { ResolvedResource } from '../kube/types.js'
import { registerSecret } from '../redact.js'
import { guarded } from '../resilience/circuit-breaker.js'
import { connectDB, parseMongoSecret } from '../store/connection/client.js'
import { clusterSource } from '../kube/cluster-source.js'
import { mongoResourceStore } from '../store/resource-store.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResourceStore } from '../store/resource-store.js'

/** Secret values fetched for this invocation (middy's secrets-manager middleware), by role. */
export interface FetchedSecrets {
  readonly mongodb?: unknown
  readonly kubeconfig?: unknown
  readonly hashKey?: unknown
}

export interface SyncDependencies {
  readonly source: ClusterSource
  readonly storeFor: (resolved: ResolvedResource) => ResourceStore
  readonly db: Db
}

/** middy parses JSON secrets; the parsers below want the text as stored. */
function secretText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * Kubernetes credentials, in the documented order: a kubeconfig from Secrets
 * Manager, an EKS cluster via IAM, a KUBECONFIG file (local runs).
 */
export async function kubeconfigSource(
  config: Config,
  secrets: FetchedSecrets,
): Promise<KubeconfigSource> {
  const { kubeconfigSecretId, eksClusterName, kubeconfigPath } = config.k8s
  if (kubeconfigSecretId) {
    if (secrets.kubeconfig === undefined) {
      throw new SyncError(`KUBECONFIG_SECRET_ID ${kubeconfigSecretId} was not fetched`, {
        context: { secretId: kubeconfigSecretId },
      })
    }
    return { kind: 'text', text: secretText(secrets.kubeconfig), secretId: kubeconfigSecretId }
  }
  if (eksClusterName) {
    const region = process.env.AWS_REGION
    const { server, caData } = await describeEksCluster(eksClusterName, region)
    const getToken = eksTokenProvider({
      clusterName: eksClusterName,
      region: region ?? 'us-east-1',
      credentials: defaultProvider(),
    })
    return { kind: 'eks', server, caData, getToken }
  }
  if (kubeconfigPath) return { kind: 'file', path: kubeconfigPath }
  throw new SyncError(
    'No Kubernetes credentials: set KUBECONFIG_SECRET_ID, EKS_CLUSTER_NAME or KUBECONFIG',
  )
}

/** The MongoDB connection string: MONGODB_SECRET_ID wins over MONGODB_URI. */
export function mongoUri(config: Config, secrets: FetchedSecrets): string {
  const { secretId, uri } = config.mongodb
  if (secretId) {
    if (secrets.mongodb === undefined) {
      throw new SyncError(`MONGODB_SECRET_ID ${secretId} was not fetched`, {
        context: { secretId },
      })
    }
    return parseMongoSecret(secretText(secrets.mongodb), secretId)
  }
  if (uri) return uri
  throw new SyncError('No MongoDB connection: set MONGODB_SECRET_ID or MONGODB_URI')
}

export function secretHashKey(config: Config, secrets: FetchedSecrets): string | undefined {
  const { hashKeySecretId, hashKey } = config.secrets
  if (!hashKeySecretId) return hashKey
  const text = secrets.hashKey === undefined ? '' : secretText(secrets.hashKey).trim()
  if (text.length < 16) {
    throw new SyncError(
      `SECRET_HASH_KEY_SECRET_ID ${hashKeySecretId} must hold a key of at least 16 characters`,
      {
        context: { secretId: hashKeySecretId },
      },
    )
  }
  registerSecret(text)
  return text
}

/** Everything a run needs, from configuration and the fetched secrets. */
export async function createDependencies(
  config: Config,
  secrets: FetchedSecrets,
  signal?: AbortSignal,
): Promise<SyncDependencies> {
  const hashKey = secretHashKey(config, secrets)
  const uri = mongoUri(config, secrets)
  const kube = createKubeClient(await kubeconfigSource(config, secrets), {
    requestTimeoutMs: config.k8s.requestTimeoutMs,
    breaker: config,
  })
  // A warm container that saw MongoDB fail keeps its breaker open: fail now, not after every retry.
  const db = await guarded(
    'mongodb',
    () => connectDB({ config, uri, ...(signal ? { signal } : {}) }),
    {
      config,
    },
  )
  const secretsPolicy = { syncData: config.secrets.syncData, hashKey }
  return {
    db,
    source: clusterSource(kube, config),
    storeFor: (resolved) => mongoResourceStore(db, resolved, { config, secrets: secretsPolicy }),
  }
}
