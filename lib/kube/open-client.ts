import {
  clientOver,
  type KubeClient,
  type KubeClientOptions,
  type KubeconfigSource,
} from './connection.js'
import { eksConnection } from './eks-connection.js'

/*
 * The functions' Kubernetes client (docs/scaling.md#cold-start). Evaluating
 * @kubernetes/client-node (and its node-fetch, js-yaml, jsonpath, socks and
 * proxy agents) took a third of a worker's load; an EKS cluster never needs
 * it, so kubeconfig.ts is imported the first time a kubeconfig is read. The
 * bundle still carries it (esbuild defers a dynamically imported module's
 * evaluation until the import runs).
 */

export async function openKubeClient(
  source: KubeconfigSource,
  options: KubeClientOptions,
): Promise<KubeClient> {
  if (source.kind === 'eks') return clientOver(eksConnection(source), source, options)
  const { kubeconfigConnection } = await import('./kubeconfig.js')
  return clientOver(kubeconfigConnection(source), source, options)
}
