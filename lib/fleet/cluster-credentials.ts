import { defaultProvider } from '@aws-sdk/credential-provider-node'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { assumedRoleCredentials, stsSessionName } from '../aws/assumed-role.js'
import { describeEksCluster } from '../aws/eks-cluster.js'
import { eksTokenProvider } from '../aws/eks-token.js'
import { fetchSecretString } from '../aws/secret-string.js'
import type { Config } from '../config.js'
import { SyncError } from '../errors.js'
import type { KubeconfigSource } from '../kube/client.js'
import { secretText, type FetchedSecrets } from '../runtime/fetched-secrets.js'
import type { FleetCluster } from './registry.js'

/*
 * A cluster's Kubernetes credentials (docs/fleets.md#registry): the
 * single-cluster settings in their documented order, or a registry entry's
 * one source. A cross-account EKS cluster is described, and its tokens
 * signed, with the role assumed for it: its access entry maps that role.
 */

/** Assumed-role credentials by role, kept by the warm container so they are renewed, not re-assumed per task. */
export type RoleCredentialsCache = Map<string, AwsCredentialIdentityProvider>

function roleCredentials(
  cache: RoleCredentialsCache,
  cluster: string,
  roleArn: string,
  externalId: string | undefined,
  region: string,
): AwsCredentialIdentityProvider {
  const key = `${roleArn}\u0000${externalId ?? ''}\u0000${region}`
  let provider = cache.get(key)
  if (!provider) {
    provider = assumedRoleCredentials({
      roleArn,
      region,
      cluster,
      sessionName: stsSessionName(cluster),
      ...(externalId ? { externalId } : {}),
    })
    cache.set(key, provider)
  }
  return provider
}

async function eksSource(
  eksClusterName: string,
  region: string,
  credentials: AwsCredentialIdentityProvider,
): Promise<KubeconfigSource> {
  const { server, caData } = await describeEksCluster(eksClusterName, region, credentials)
  const getToken = eksTokenProvider({ clusterName: eksClusterName, region, credentials })
  return { kind: 'eks', server, caData, getToken }
}

/** The one-cluster settings: KUBECONFIG_SECRET_ID (fetched by middy), EKS_CLUSTER_NAME, KUBECONFIG. */
async function configuredSource(
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
    const region = process.env.AWS_REGION ?? 'us-east-1'
    return eksSource(eksClusterName, region, defaultProvider())
  }
  if (kubeconfigPath) return { kind: 'file', path: kubeconfigPath }
  throw new SyncError(
    'No Kubernetes credentials: set KUBECONFIG_SECRET_ID, EKS_CLUSTER_NAME or KUBECONFIG',
  )
}

export async function kubeconfigSourceOf(
  cluster: FleetCluster,
  edge: {
    readonly config: Config
    readonly secrets: FetchedSecrets
    readonly roles: RoleCredentialsCache
  },
): Promise<KubeconfigSource> {
  const c = cluster.credentials
  if (c === 'configured') return configuredSource(edge.config, edge.secrets)
  const context = c.context ? { context: c.context } : {}
  if (c.kubeconfigSecretId) {
    const text = await fetchSecretString(c.kubeconfigSecretId)
    return { kind: 'text', text, secretId: c.kubeconfigSecretId, ...context }
  }
  if (c.kubeconfigPath) return { kind: 'file', path: c.kubeconfigPath, ...context }
  if (c.eksClusterName) {
    const region = c.region ?? process.env.AWS_REGION ?? 'us-east-1'
    const credentials = c.roleArn
      ? roleCredentials(edge.roles, cluster.name, c.roleArn, c.externalId, region)
      : defaultProvider()
    return eksSource(c.eksClusterName, region, credentials)
  }
  throw new SyncError(`cluster ${cluster.name} has no credentials source`, {
    context: { cluster: cluster.name },
  })
}
