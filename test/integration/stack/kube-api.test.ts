import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node'
import { beforeAll, describe, expect, it } from 'vitest'

import { demoCrd } from '../../stack/cluster-setup.js'
import {
  collectWatch,
  createTestNamespace,
  kubeConfigFrom,
  kubeIsExternal,
  rejectionOf,
} from '../../stack/test-helpers.js'

describe('the stack API server', () => {
  let admin: KubeConfig
  let namespace: string

  beforeAll(async () => {
    admin = kubeConfigFrom()
    namespace = await createTestNamespace(admin, 'kube-api')
  })

  it('lists and watches ConfigMaps with the admin token', async () => {
    const core = admin.makeApiClient(CoreV1Api)
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'first' }, data: { 'nginx.conf': 'events {}' } },
    })
    const list = await core.listNamespacedConfigMap({ namespace })
    expect(list.items.map((cm) => cm.metadata?.name)).toEqual(['first'])

    const watching = collectWatch(
      admin,
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion },
      { stop: (events) => events.length >= 1 },
    )
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'second' } } })
    const { events } = await watching
    expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([['ADDED', 'second']])
  })

  it.skipIf(kubeIsExternal())(
    'answers 403 to the restricted token on Secrets but lets it list ConfigMaps',
    async () => {
      const restricted = kubeConfigFrom(process.env.KUBECONFIG_RESTRICTED).makeApiClient(CoreV1Api)
      await expect(restricted.listNamespacedConfigMap({ namespace })).resolves.toBeDefined()
      const error = await rejectionOf(restricted.listNamespacedSecret({ namespace }))
      expect(error).toMatchObject({ code: 403 })
      expect(JSON.parse((error as { body: string }).body)).toMatchObject({ reason: 'Forbidden' })
    },
  )

  it('round-trips a Widget of the demo CRD', async () => {
    const custom = admin.makeApiClient(CustomObjectsApi)
    const { group, version, plural, kind } = demoCrd
    const body = {
      apiVersion: `${group}/${version}`,
      kind,
      metadata: { name: 'w1', labels: { 'app.kubernetes.io/name': 'widgets' } },
      spec: { size: 3, config: { 'a.b': 1, $ref: '#/x' } },
    }
    await custom.createNamespacedCustomObject({ group, version, namespace, plural, body })
    const got = await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'w1',
    })
    expect(got.spec).toEqual(body.spec)
    const list = await custom.listNamespacedCustomObject({ group, version, namespace, plural })
    expect(list.items.map((w: { metadata: { name: string } }) => w.metadata.name)).toEqual(['w1'])
  })
})
