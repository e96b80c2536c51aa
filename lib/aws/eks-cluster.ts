import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { SyncError } from '../errors.js'

export interface EksClusterEndpoint {
  readonly server: string
  /** Base64 PEM of the cluster CA, as a kubeconfig's certificate-authority-data. */
  readonly caData: string
}

/**
 * Endpoint and CA of an EKS cluster (needs `eks:DescribeCluster` on it). A
 * cluster in another account is described with its assumed role's
 * `credentials`; without them, the default chain (the Lambda role).
 */
export async function describeEksCluster(
  name: string,
  region?: string,
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): Promise<EksClusterEndpoint> {
  const client = new EKSClient({
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
  })
  const where = region ? ` in ${region}` : ''
  try {
    const { cluster } = await client.send(new DescribeClusterCommand({ name }))
    const server = cluster?.endpoint
    const caData = cluster?.certificateAuthority?.data
    if (!server || !caData) {
      throw new SyncError(
        `EKS cluster ${name}${where} has no endpoint or certificate authority yet (status ${cluster?.status ?? 'unknown'})`,
        { context: { operation: 'eks:DescribeCluster' } },
      )
    }
    return { server, caData }
  } catch (error) {
    if (error instanceof SyncError) throw error
    throw new SyncError(`eks:DescribeCluster ${name}${where} failed: ${(error as Error).message}`, {
      context: { operation: 'eks:DescribeCluster' },
      cause: error,
    })
  } finally {
    client.destroy()
  }
}
