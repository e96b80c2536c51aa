import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { demoCrd } from '../../stack/cluster-setup.js'
import { startApiserver, stopApiserver } from '../../stack/control.js'
import {
  createTestNamespace,
  kubeConfigFrom,
  kubeIsExternal,
  rejectionOf,
} from '../../stack/test-helpers.js'

const clusters = [1, 2, 3] as const

function kubeconfigOf(cluster: number): KubeConfig {
  const path = process.env[`KUBECONFIG_${cluster}`]
  if (!path) throw new Error(`KUBECONFIG_${cluster} missing from .stack/env (STACK_CLUSTERS < 3?)`)
  return kubeConfigFrom(path)
}

const namespaceNames = async (kc: KubeConfig) =>
  (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((ns) => ns.metadata?.name)

// The global setup starts three clusters: separate kube-apiservers on one etcd, each under its
// own etcd prefix (test/stack/README.md#clusters).
describe.skipIf(kubeIsExternal())('a three-cluster stack', () => {
  const kcs = new Map<number, KubeConfig>()
  let namespace: string

  beforeAll(async () => {
    for (const c of clusters) kcs.set(c, kubeconfigOf(c))
    namespace = await createTestNamespace(kcs.get(2) as KubeConfig, 'multi')
  })

  afterAll(async () => {
    // A failed stop/start test must not leave cluster 2 down for the next file.
    await startApiserver(2)
  })

  it('runs at least three clusters, KUBECONFIG_1 being KUBECONFIG', () => {
    expect(Number(process.env.STACK_CLUSTERS)).toBeGreaterThanOrEqual(3)
    expect(process.env.KUBECONFIG_1).toBe(process.env.KUBECONFIG)
    const servers = clusters.map((c) => kcs.get(c)?.getCurrentCluster()?.server)
    expect(new Set(servers).size).toBe(3)
  })

  it('answers on every KUBECONFIG_n with the demo CRD installed', async () => {
    const { group, version, plural } = demoCrd
    for (const c of clusters) {
      const custom = (kcs.get(c) as KubeConfig).makeApiClient(CustomObjectsApi)
      const list = await custom.listClusterCustomObject({ group, version, plural })
      expect(list, `cluster ${c}`).toHaveProperty('items')
      expect(await namespaceNames(kcs.get(c) as KubeConfig)).toContain('default')
    }
  })

  it('keeps a namespace and ConfigMap created in cluster 2 out of clusters 1 and 3', async () => {
    const core2 = (kcs.get(2) as KubeConfig).makeApiClient(CoreV1Api)
    await core2.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'only-in-2' }, data: { k: 'v' } },
    })
    expect(await namespaceNames(kcs.get(2) as KubeConfig)).toContain(namespace)
    for (const c of [1, 3]) {
      const kc = kcs.get(c) as KubeConfig
      expect(await namespaceNames(kc), `cluster ${c}`).not.toContain(namespace)
      const core = kc.makeApiClient(CoreV1Api)
      const all = await core.listConfigMapForAllNamespaces()
      expect(all.items.map((cm) => cm.metadata?.name)).not.toContain('only-in-2')
      const missing = await rejectionOf(core.readNamespace({ name: namespace }))
      expect(missing).toMatchObject({ code: 404 })
    }
  })

  it('keeps clusters 1 and 3 answering while cluster 2 is stopped, and 2 keeps its data', async () => {
    const core2 = (kcs.get(2) as KubeConfig).makeApiClient(CoreV1Api)
    await core2.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'survivor' } } })
    const t0 = Date.now()
    await stopApiserver(2)
    const stopMs = Date.now() - t0
    const down = await rejectionOf(core2.listNamespacedConfigMap({ namespace }))
    expect(`${down.code ?? ''} ${down.message}`).toMatch(/ECONNREFUSED/)
    for (const c of [1, 3]) {
      expect(await namespaceNames(kcs.get(c) as KubeConfig), `cluster ${c}`).toContain('default')
    }
    const t1 = Date.now()
    await startApiserver(2)
    const startMs = Date.now() - t1
    const names = (await core2.listNamespacedConfigMap({ namespace })).items.map(
      (cm) => cm.metadata?.name,
    )
    expect(names).toContain('survivor')
    console.log(`cluster 2 API server: stop ${stopMs} ms, start to warm ${startMs} ms`)
  })
})
