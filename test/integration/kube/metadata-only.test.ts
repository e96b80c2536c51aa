import { CoreV1Api } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterSource } from '../../../lib/kube/cluster-source.js'
import type { KubeClient } from '../../../lib/kube/client.js'
import type { KubeObject, WatchEvent } from '../../../lib/kube/types.js'
import { createTestNamespace, kubeConfigFrom } from '../../stack/test-helpers.js'
import { testConfig } from '../sync/harness.js'
import { kubeClient, resolve } from './helpers.js'

/*
 * SECRET_MODE=metadata at the edge, on kube-apiserver 1.34: Secrets are
 * listed and watched as PartialObjectMetadata, and handed on as Secrets
 * (their real apiVersion and kind) with metadata only. The client refuses
 * anything but PartialObjectMetadata when it asked for it, so a list that
 * succeeds is one the server sent without values.
 */

const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)
const value = 'a-value-the-server-keeps-to-itself'
const annotations = { 'example.com/note': 'n', 'kubernetes.io/service-account.name': 'sa' }

describe('metadata-only Secrets against the real API server', () => {
  let kube: KubeClient
  let namespace: string
  let uid: string

  beforeAll(async () => {
    kube = kubeClient()
    namespace = await createTestNamespace(kc, 'metadata-only')
    const created = await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'one', annotations }, stringData: { password: value } },
    })
    uid = created.metadata!.uid!
  })
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined)
  })

  it('lists a Secret as its metadata only, with its real apiVersion and kind', async () => {
    const secrets = await resolve(kube, 'v1/secrets')
    const page = await kube.listPage({
      resolved: secrets,
      namespace,
      limit: 10,
      metadataOnly: true,
    })
    expect(page.items).toHaveLength(1)
    const [item] = page.items as [KubeObject]
    expect(Object.keys(item)).toEqual(['kind', 'apiVersion', 'metadata'])
    expect(item).toMatchObject({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'one', namespace, uid, annotations },
    })
    expect(page.metadata.resourceVersion).toMatch(/^\d+$/)
  })

  it('lists whole Secrets through the cluster source in every other mode, metadata only in metadata mode', async () => {
    const secrets = await resolve(kube, 'v1/secrets')
    const itemsIn = async (mode: string) => {
      const source = clusterSource(kube, testConfig({ SECRET_MODE: mode }))
      const items: KubeObject[] = []
      for await (const page of source.listPages(secrets, {
        namespaces: [namespace],
        signal: new AbortController().signal,
        allowInconsistentContinue: () => false,
      }))
        items.push(...page.items)
      return items
    }
    expect((await itemsIn('metadata'))[0]).not.toHaveProperty('data')
    for (const mode of ['redacted', 'plain'])
      expect((await itemsIn(mode))[0]).toMatchObject({
        data: { password: Buffer.from(value).toString('base64') },
      })
    // Only Secrets are listed as metadata: a ConfigMap keeps its data in metadata mode.
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cm' }, data: { k: 'v' } },
    })
    const configMaps = await resolve(kube, 'v1/configmaps')
    const source = clusterSource(kube, testConfig({ SECRET_MODE: 'metadata' }))
    for await (const page of source.listPages(configMaps, {
      namespaces: [namespace],
      signal: new AbortController().signal,
      allowInconsistentContinue: () => false,
    }))
      expect(page.items.find((i) => i.metadata.name === 'cm')).toMatchObject({ data: { k: 'v' } })
  })

  it('watches Secrets as metadata only: added, modified, deleted and bookmarks', async () => {
    const secrets = await resolve(kube, 'v1/secrets')
    const from = (
      await kube.listPage({ resolved: secrets, namespace, limit: 1, metadataOnly: true })
    ).metadata.resourceVersion
    const abort = new AbortController()
    const events = await kube.watchStream({
      resolved: secrets,
      namespace,
      resourceVersion: from,
      timeoutSeconds: 20,
      allowWatchBookmarks: true,
      signal: abort.signal,
      metadataOnly: true,
    })
    const seen: WatchEvent[] = []
    const changes = (async () => {
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'two' }, stringData: { password: value } },
      })
      await core.patchNamespacedSecret({
        namespace,
        name: 'two',
        body: [{ op: 'add', path: '/metadata/labels', value: { step: '2' } }],
      })
      await core.deleteNamespacedSecret({ namespace, name: 'two' })
    })()
    try {
      for await (const event of events) {
        seen.push(event)
        if (event.type === 'DELETED') break
      }
    } finally {
      abort.abort()
    }
    await changes
    expect(seen.filter((e) => e.type !== 'BOOKMARK').map((e) => e.type)).toEqual([
      'ADDED',
      'MODIFIED',
      'DELETED',
    ])
    for (const { object } of seen) {
      expect(Object.keys(object)).toEqual(['kind', 'apiVersion', 'metadata'])
      expect(object).toMatchObject({ kind: 'Secret', apiVersion: 'v1' })
    }
    expect(JSON.stringify(seen)).not.toContain(Buffer.from(value).toString('base64'))
  })
})
