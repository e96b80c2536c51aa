import {
  clientOver,
  type KubeClient,
  type KubeClientOptions,
  type KubeconfigSource,
} from './connection.js'
import { eksConnection } from './eks-connection.js'
import { kubeconfigConnection } from './kubeconfig.js'

/*
 * A Kubernetes client for tests, benchmarks and local tools: synchronous, it
 * loads the kubeconfig reader with this module. The Lambda functions use
 * open-client.ts, which loads it only when a kubeconfig is read. Both make
 * the same client (connection.ts) over the same connections.
 */

export type { KubeClient, KubeClientOptions, KubeconfigSource } from './connection.js'
export { loadKubeConfig } from './kubeconfig.js'

export function createKubeClient(source: KubeconfigSource, options: KubeClientOptions): KubeClient {
  const connection = source.kind === 'eks' ? eksConnection(source) : kubeconfigConnection(source)
  return clientOver(connection, source, options)
}
