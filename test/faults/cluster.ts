import {
  CoreV1Api,
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { seed } from '../stack/seed.js'
import { configMap, widget } from '../stack/seed-objects.js'

/** Cluster-side helpers: seed a scenario's namespaces, change them while faults run, clean up. */

export const kinds = {
  'v1/configmaps': 'ConfigMap',
  'v1/secrets': 'Secret',
  'apps/v1/deployments': 'Deployment',
  'example.com/v1/widgets': 'Widget',
} as const
export type SeededResource = keyof typeof kinds
export const seededResources = Object.keys(kinds) as SeededResource[]

export async function seedNamespaces(
  kc: KubeConfig,
  prefix: string,
  objects: number,
  perNamespace = 100,
): Promise<string[]> {
  const result = await seed({ objects, namespacePrefix: prefix, perNamespace, kubeconfig: kc })
  return result.namespaces
}

/**
 * Waits until the API server serves `resource` again: after a restart /readyz
 * passes before a CRD's storage is ready, which answers 429 "storage is
 * (re)initializing" for a moment. The scenario's own writes must not trip on that.
 */
export async function whenServed(
  kc: KubeConfig,
  resource: SeededResource,
  namespace: string,
  timeoutMs = 30_000,
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  const [group, version] = resource.split('/').length === 3 ? resource.split('/') : ['', 'v1']
  const apiVersion = group ? `${group}/${version}` : version!
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await api.list(apiVersion, kinds[resource], namespace)
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

let counter = 0

/** Creates, updates and deletes objects of `resource` in `namespaces` (round robin). */
export async function churn(
  kc: KubeConfig,
  resource: 'v1/configmaps' | 'example.com/v1/widgets',
  namespaces: readonly string[],
  {
    creates = 0,
    updates = 0,
    deletes = 0,
  }: { creates?: number; updates?: number; deletes?: number },
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  const apiVersion = resource === 'v1/configmaps' ? 'v1' : 'example.com/v1'
  const kind = kinds[resource]
  const limit = pLimit(8)
  const existing: KubernetesObject[] = []
  for (const namespace of namespaces) {
    const list = await api.list(apiVersion, kind, namespace)
    existing.push(...list.items.map((o) => ({ ...o, apiVersion, kind })))
  }
  const victims = existing.slice(0, deletes)
  const changed = existing.slice(deletes, deletes + updates)
  const jobs: Promise<unknown>[] = []
  for (let i = 0; i < creates; i++) {
    const n = ++counter
    const namespace = namespaces[n % namespaces.length]!
    const name = `churn-${Date.now().toString(36)}-${n}`
    const body =
      resource === 'v1/configmaps'
        ? {
            ...configMap(name, n),
            apiVersion,
            kind,
            metadata: { ...configMap(name, n).metadata, namespace },
          }
        : (widget(name, namespace, n) as KubernetesObject)
    jobs.push(limit(() => api.create(body)))
  }
  for (const obj of changed) {
    jobs.push(
      limit(async () => {
        const fresh = await api.read({
          apiVersion,
          kind,
          metadata: { name: obj.metadata!.name!, namespace: obj.metadata!.namespace! },
        })
        const annotations = {
          ...(fresh.metadata?.annotations ?? {}),
          'faults.example.com/churn': String(++counter),
        }
        await api.replace({
          ...fresh,
          apiVersion,
          kind,
          metadata: { ...fresh.metadata!, annotations },
        })
      }),
    )
  }
  for (const obj of victims) jobs.push(limit(() => api.delete(obj)))
  await Promise.all(jobs)
}

/** Deletes every seeded kind in the namespaces (without a namespace controller, namespaces never finish deleting). */
export async function cleanNamespaces(
  kc: KubeConfig,
  namespaces: readonly string[],
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const custom = kc.makeApiClient(CustomObjectsApi)
  const limit = pLimit(4)
  await Promise.all(
    namespaces.flatMap((namespace) => [
      limit(() => core.deleteCollectionNamespacedConfigMap({ namespace })),
      limit(() => core.deleteCollectionNamespacedSecret({ namespace })),
      limit(() => apps.deleteCollectionNamespacedDeployment({ namespace })),
      limit(() =>
        custom.deleteCollectionNamespacedCustomObject({
          group: 'example.com',
          version: 'v1',
          namespace,
          plural: 'widgets',
        }),
      ),
    ]),
  )
}
