import { readFileSync } from 'node:fs'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { createKubeClient, type KubeClient } from '../../../lib/kube/client.js'
import { KubeApiError } from '../../../lib/kube/errors.js'
import { listPages } from '../../../lib/kube/pager.js'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { createTestNamespace, kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import {
  createConfigMaps,
  createWidgets,
  drain,
  fastPolicy,
  kubeClient,
  resolve,
  uidsOf,
} from './helpers.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'

describe('lib/kube against the real API server: lists and discovery', () => {
  let admin: KubeConfig
  let kube: KubeClient
  const namespaces: string[] = []
  const created = new Map<string, string[]>()

  beforeAll(async () => {
    admin = kubeConfigFrom()
    kube = kubeClient()
    for (const [prefix, count] of [
      ['list-a', 130],
      ['list-b', 100],
      ['list-c', 70],
    ] as const) {
      const namespace = await createTestNamespace(admin, prefix)
      namespaces.push(namespace)
      created.set(namespace, await createConfigMaps(admin, namespace, count))
    }
    await createWidgets(admin, namespaces[0]!, 12)
  })

  it('lists every ConfigMap once, 50 a page, at one list resourceVersion', async () => {
    const resolved = await resolve(kube, 'v1/configmaps')

    const { items: pages, result } = await drain(
      listPages(kube.listPage, { resolved, pageSize: 50, policy: fastPolicy }),
    )

    expect(pages.every((p) => p.items.length <= 50)).toBe(true)
    expect(new Set(pages.map((p) => p.listResourceVersion)).size).toBe(1)
    expect(result).toMatchObject({ consistent: true, restarts: 0, pages: pages.length })
    const uids = uidsOf(pages)
    expect(new Set(uids).size).toBe(uids.length)
    const ours = [...created.values()].flat()
    expect(uids.filter((u) => ours.includes(u)).sort()).toEqual(ours.sort())
    expect(pages[0]?.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' })
  })

  it('lists chosen namespaces one after the other, and nothing else', async () => {
    const resolved = await resolve(kube, 'v1/configmaps')
    const chosen = namespaces.slice(0, 2)

    const { items: pages, result } = await drain(
      listPages(kube.listPage, { resolved, pageSize: 50, policy: fastPolicy, namespaces: chosen }),
    )

    // 130 then 100 objects: 50 + 50 + 30, then 50 + 50 (no controller adds kube-root-ca.crt here).
    expect(pages.map((p) => [p.namespace, p.items.length])).toEqual([
      [chosen[0], 50],
      [chosen[0], 50],
      [chosen[0], 30],
      [chosen[1], 50],
      [chosen[1], 50],
    ])
    expect(uidsOf(pages).sort()).toEqual(
      [...created.get(chosen[0]!)!, ...created.get(chosen[1]!)!].sort(),
    )
    expect(Object.keys(result.resourceVersions)).toEqual(chosen)
  })

  it('lists a custom resource', async () => {
    const resolved = await resolve(kube, 'example.com/v1/widgets')

    const { items: pages } = await drain(
      listPages(kube.listPage, {
        resolved,
        pageSize: 5,
        policy: fastPolicy,
        namespaces: [namespaces[0]!],
      }),
    )

    expect(pages.map((p) => p.items.length)).toEqual([5, 5, 2])
    expect(pages[0]?.items[0]).toMatchObject({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      spec: { size: 0 },
    })
  })

  it('discovers core, grouped, cluster-scoped and custom resources', async () => {
    expect(await resolve(kube, 'v1/configmaps')).toMatchObject({
      kind: 'ConfigMap',
      namespaced: true,
      apiVersion: 'v1',
    })
    expect(await resolve(kube, 'apps/v1/deployments')).toMatchObject({
      kind: 'Deployment',
      namespaced: true,
    })
    expect(await resolve(kube, 'v1/namespaces')).toMatchObject({
      kind: 'Namespace',
      namespaced: false,
    })
    expect(await resolve(kube, 'example.com/v1/widgets')).toMatchObject({
      kind: 'Widget',
      namespaced: true,
      apiVersion: 'example.com/v1',
    })
  })

  it('names a resource the server does not serve', async () => {
    await expect(resolve(kube, 'v1/gizmos')).rejects.toMatchObject({
      name: 'ResourceNotFoundError',
      message: 'resource v1/gizmos is not served: group/version v1 has no resource "gizmos"',
    })
    const missingGroup = await resolve(kube, 'nope.example.com/v1/things').catch((e: unknown) => e)
    expect(missingGroup).toMatchObject({ name: 'ResourceNotFoundError' })
    expect(classify(missingGroup).kind).toBe('fatal')
  })

  it.skipIf(kubeIsExternal())(
    'gets a 403 on Secrets with the restricted user, and the pager does not retry it',
    async () => {
      const restricted = kubeClient(process.env.KUBECONFIG_RESTRICTED)
      const secrets = await resolve(kube, 'v1/secrets')
      const requests: unknown[] = []

      const error = await drain(
        listPages((r) => (requests.push(r), restricted.listPage(r)), {
          resolved: secrets,
          pageSize: 50,
          policy: fastPolicy,
        }),
      ).catch((e: unknown) => e)

      expect(requests).toHaveLength(1)
      expect(error).toMatchObject({
        name: 'FatalOperationError',
        context: { resource: 'v1/secrets', page: 1 },
      })
      const cause = (error as Error).cause
      expect(cause).toBeInstanceOf(KubeApiError)
      expect(cause).toMatchObject({ code: 403, reason: 'Forbidden' })
      const configMaps = await restricted.listPage({
        resolved: await resolve(kube, 'v1/configmaps'),
        limit: 1,
      })
      expect(configMaps.items).toHaveLength(1)
    },
  )

  it.skipIf(kubeIsExternal())(
    'works with an EKS-style endpoint, CA and a token asked for on every request',
    async () => {
      const user = admin.getCurrentUser()!
      let asked = 0
      const eks = createKubeClient(
        {
          kind: 'eks',
          server: process.env.KUBE_APISERVER_URL!,
          caData: readFileSync(process.env.KUBE_CA_FILE!).toString('base64'),
          getToken: () => (asked++, Promise.resolve(user.token!)),
        },
        { requestTimeoutMs: 10_000, guard: unguarded },
      )

      const resolved = await eks.discover(parseResourceRef('v1/configmaps')!)
      const page = await eks.listPage({ resolved, namespace: namespaces[2], limit: 10 })

      expect(page.items).toHaveLength(10)
      expect(asked).toBe(2)
    },
  )

  it('works with a kubeconfig read from a secret value', async () => {
    const text = readFileSync(process.env.KUBECONFIG!, 'utf8')
    const fromSecret = createKubeClient(
      { kind: 'text', text, secretId: 'test/kubeconfig' },
      { requestTimeoutMs: 10_000, guard: unguarded },
    )

    const page = await fromSecret.listPage({
      resolved: await resolve(kube, 'v1/configmaps'),
      namespace: namespaces[2],
      limit: 100,
    })

    expect(page.items).toHaveLength(70)
    expect(page.metadata.continue).toBeUndefined()
    await admin.makeApiClient(CoreV1Api).readNamespace({ name: namespaces[2]! })
  })
})
