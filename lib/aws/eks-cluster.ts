import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks'
import { SyncError } from '../errors.js'

export interface EksClusterEndpoint {
  readonly server: string
  /** Base64 PEM of the cluster CA, as a kubeconfig's certificate-authority-data. */
  readonly caData: string
}

/** Endpoint and CA of an EKS cluster (needs `eks:DescribeCluster` on it). */
export async function describeEksCluster(
  name: string,
  region?: string,
): Promise<EksClusterEndpoint> {
  const client = new EKSClient(region ? { region } : {})
  try {
    const { cluster } = await client.send(new DescribeClusterCommand({ name }))
    const server = cluster?.endpoint
    const caData = cluster?.certificateAuthority?.data
    if (!server || !caData) {
      throw new SyncError(
        `EKS cluster ${name} has no endpoint or certificate authority yet (status ${cluster?.status ?? 'unknown'})`,
      )
    }
    return { server, caData }
  } catch (error) {
    if (error instanceof SyncError) throw error
    throw new SyncError(`eks:DescribeCluster ${name} failed: ${(error as Error).message}`, {
      cause: error,
    })
  } finally {
    client.destroy()
  }
}
