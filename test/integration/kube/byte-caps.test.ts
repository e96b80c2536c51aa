import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import type { KubeClient } from '../../../lib/kube/client.js'
import type { ListPageFn, ListPageRequest } from '../../../lib/kube/operations.js'
import { listPages } from '../../../lib/kube/pager.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import { watchWindow } from '../../../lib/kube/watcher.js'
import { createTestNamespace, kubeConfigFrom } from '../../stack/test-helpers.js'
import { drain, fastPolicy, kubeClient, resolve, uidsOf } from './helpers.js'

/*
 * K8S_LIST_PAGE_MAX_BYTES and K8S_WATCH_LINE_MAX_BYTES against the real API
 * server, with caps small enough for a test (docs/design.md#invariant-6-bounded).
 * The full-size proof (500 ConfigMaps of 900 KiB under the reconcile
 * function's memory) is `npm run bench:large-objects`.
 */

const OBJECT_KIB = 20
const OBJECTS = 30

/** ConfigMaps of about OBJECT_KIB each (text that gzip cannot shrink much, as Helm's is). */
async function createLargeConfigMaps(kc: KubeConfig, namespace: string): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api)
  const uids: string[] = []
  for (let i = 0; i < OBJECTS; i++) {
    const data = Buffer.from(crypto.getRandomValues(new Uint8Array(OBJECT_KIB * 768)))
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: `big-${String(i).padStart(2, '0')}` },
        data: { release: data.toString('base64') },
      },
    })
    uids.push(created.metadata!.uid!)
  }
  return uids
}

describe('byte caps against the real API server', () => {
  let admin: KubeConfig
  let kube: KubeClient
  let configMaps: ResolvedResource
  let namespace: string
  let created: string[]

  beforeAll(async () => {
    admin = kubeConfigFrom()
    kube = kubeClient()
    configMaps = await resolve(kube, 'v1/configmaps')
    namespace = await createTestNamespace(admin, 'byte-caps')
    created = await createLargeConfigMaps(admin, namespace)
  })

  /** The client's list, recording the limit of every request. */
  const recorded = (): { list: ListPageFn; requests: ListPageRequest[] } => {
    const requests: ListPageRequest[] = []
    return {
      requests,
      list: (request) => {
        requests.push(request)
        return kube.listPage(request)
      },
    }
  }

  it('asks a page over the cap again with half the limit until it fits, and lists everything once', async () => {
    const { list, requests } = recorded()
    const maxPageBytes = 5 * OBJECT_KIB * 1024 // 4 objects fit, with their metadata

    const { items: pages, result } = await drain(
      listPages(list, {
        resolved: configMaps,
        namespaces: [namespace],
        pageSize: OBJECTS,
        maxPageBytes,
        policy: fastPolicy,
      }),
    )

    expect(requests.slice(0, 4).map((r) => r.limit)).toEqual([30, 15, 7, 3])
    expect(new Set(requests.slice(3).map((r) => r.limit))).toEqual(new Set([3]))
    expect(pages.every((p) => p.items.length <= 3)).toBe(true)
    expect(uidsOf(pages).sort()).toEqual([...created].sort())
    expect(result).toMatchObject({ consistent: true, items: OBJECTS, pages: OBJECTS / 3 })
  })

  it('fails the list clearly when a page is over the cap even at the smallest limit', async () => {
    const { list, requests } = recorded()

    const error = await drain(
      listPages(list, {
        resolved: configMaps,
        namespaces: [namespace],
        pageSize: 8,
        maxPageBytes: 2 * OBJECT_KIB * 1024,
        minPageSize: 4,
        policy: fastPolicy,
      }),
    ).catch((e: unknown) => e)

    expect(requests.map((r) => r.limit)).toEqual([8, 4])
    expect((error as Error).message).toBe(
      `list v1/configmaps page 1: over K8S_LIST_PAGE_MAX_BYTES (${2 * OBJECT_KIB * 1024} bytes) even with limit 4 (K8S_LIST_PAGE_MIN_SIZE 4)`,
    )
  })

  it('fails the watch window on an event over the line cap, without reconnecting', async () => {
    const from = (await kube.listPage({ resolved: configMaps, namespace, limit: 1 })).metadata
      .resourceVersion
    const core = admin.makeApiClient(CoreV1Api)
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'small' }, data: { k: 'v' } },
    })
    const big = await core.readNamespacedConfigMap({ namespace, name: 'big-00' })
    await core.replaceNamespacedConfigMap({
      namespace,
      name: 'big-00',
      body: { ...big, data: { ...big.data, touched: 'yes' } },
    })

    const { items: events, result } = await drain(
      watchWindow(kube.watchStream, {
        resolved: configMaps,
        namespace,
        fromResourceVersion: from,
        windowEndsAt: Date.now() + 10_000,
        policy: fastPolicy,
        reconnect: true,
        watchTimeoutMs: 60_000,
        maxLineBytes: 4 * 1024,
      }),
    )

    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'small']])
    expect(result).toMatchObject({ outcome: 'failed', reconnects: 0, events: 1 })
    expect(result.resourceVersion).toBe(events[0]?.object.metadata.resourceVersion)
    expect(result.error).toMatchObject({ name: 'WatchLineTooLargeError' })
    expect((result.error as Error).message).toMatch(
      /^watch v1\/configmaps in byte-caps-\S+ from \d+: an event over K8S_WATCH_LINE_MAX_BYTES \(4096 bytes\); the window stops here$/,
    )
    expect(classify(result.error).kind).toBe('fatal')
  })
})
