import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { demoCrd } from '../../stack/cluster-setup.js'
import { seed } from '../../stack/seed.js'
import { kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'

describe('seed', () => {
  it('creates the realistic mix, and re-running it is a no-op', async () => {
    const kc = kubeConfigFrom()
    const namespacePrefix = uniqueName('seed')
    const result = await seed({ objects: 20, namespacePrefix, perNamespace: 10, kubeconfig: kc })
    expect(result.namespaces).toEqual([`${namespacePrefix}-0`, `${namespacePrefix}-1`])
    expect(result.counts).toEqual({ configmaps: 8, secrets: 4, deployments: 4, widgets: 4 })

    const namespace = `${namespacePrefix}-0`
    const core = kc.makeApiClient(CoreV1Api)
    const secrets = await core.listNamespacedSecret({ namespace })
    expect(secrets.items.flatMap((s) => Object.keys(s.data ?? {}))).toEqual(
      expect.arrayContaining(['tls.crt', '.dockerconfigjson']),
    )
    const configMaps = await core.listNamespacedConfigMap({ namespace })
    expect(configMaps.items[0]?.data).toHaveProperty(['nginx.conf'])
    expect(configMaps.items[0]?.metadata?.labels).toHaveProperty(['app.kubernetes.io/name'])
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace })
    expect(deployments.items).toHaveLength(2)
    const { group, version, plural } = demoCrd
    const widgets = await kc
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group, version, namespace, plural })
    expect(widgets.items).toHaveLength(2)

    await expect(
      seed({ objects: 20, namespacePrefix, perNamespace: 10, kubeconfig: kc }),
    ).resolves.toBeDefined()
  })
})
