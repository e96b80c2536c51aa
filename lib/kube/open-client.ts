import {
  clientOver,
  type KubeClient,
  type KubeClientOptions,
  type KubeconfigSource,
} from './connection.js'
import { eksConnection } from './eks-connection.js'

/*
 * The functions' Kubernetes client (docs/scaling.md#cold-start). An EKS
 * cluster's client needs its endpoint, CA and token alone; the kubeconfig reader
 * (kubeconfig.ts, with js-yaml) is imported the first time a kubeconfig is
 * read, so an EKS-only worker never evaluates it (esbuild defers a
 * dynamically imported module's evaluation until the import runs).
 */

export async function openKubeClient(
  source: KubeconfigSource,
  options: KubeClientOptions,
): Promise<KubeClient> {
  if (source.kind === 'eks') return clientOver(eksConnection(source), source, options)
  const { kubeconfigConnection } = await import('./kubeconfig.js')
  return clientOver(kubeconfigConnection(source), source, options)
}
