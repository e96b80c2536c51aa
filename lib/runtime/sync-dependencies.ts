import { defaultProvider } from '@aws-sdk/credential-provider-node'
import { describeEksCluster } from '../aws/eks-cluster.js'
import { eksTokenProvider } from '../aws/eks-token.js'
import type { Config } from '../config.js'
import { SyncError } from '../errors.js'
import { clusterSource } from '../kube/cluster-source.js'
import { createKubeClient, type KubeconfigSource } from '../kube/client.js'
import { mongoResourceStore } from '../store/resource-store.js'
import type { RunDependencies } from '../sync/run-dependencies.js'
import { mongoUri, secretText, secretValuePolicy, type FetchedSecrets } from './fetched-secrets.js'
import type { Invocation } from './invocation.js'

/**
 * Kubernetes credentials, in the documented order: a kubeconfig from Secrets
 * Manager, an EKS cluster via IAM, a KUBECONFIG file (local runs).
 */
async function kubeconfigSource(
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

/** What the reconcile and watch functions run on: the cluster, MongoDB, the deadline and the lease owner. */
export async function createSyncDependencies(invocation: Invocation): Promise<RunDependencies> {
  const { config, secrets, deadline, owner, container } = invocation
  const secretsPolicy = secretValuePolicy(config, secrets)
  const uri = mongoUri(config, secrets)
  const kube = createKubeClient(await kubeconfigSource(config, secrets), {
    requestTimeoutMs: config.k8s.requestTimeoutMs,
    guard: container.breakers.guardOf('kubernetes'),
    allowInsecureTls: config.allowInsecureTls,
  })
  // A warm container that saw MongoDB fail keeps its breaker open: fail now, not after every retry.
  const mongoGuard = container.breakers.guardOf('mongodb')
  const db = await mongoGuard(() => container.mongo.connectDB({ uri, signal: deadline.signal }))
  return {
    config,
    source: clusterSource(kube, config),
    storeFor: (resolved) =>
      mongoResourceStore(db, resolved, {
        config,
        secrets: secretsPolicy,
        guard: mongoGuard,
        pacing: container.pacing,
      }),
    deadline,
    owner,
  }
}
