import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KubeClient } from '../../../lib/kube/client.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import { watchWindow, type WatchWindowOptions } from '../../../lib/kube/watcher.js'
import { and, isWatch, startFaultProxy, type FaultProxy } from '../../stack/fault-proxy.js'
import { createTestNamespace, kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { sleep } from '../../stack/wait.js'
import { createConfigMaps, drain, fastPolicy, kubeClient, resolve } from './helpers.js'

describe('the bounded watcher against the real API server', () => {
  let admin: KubeConfig
  let core: CoreV1Api
  let kube: KubeClient
  let configMaps: ResolvedResource
  let proxy: FaultProxy | undefined

  beforeAll(async () => {
    admin = kubeConfigFrom()
    core = admin.makeApiClient(CoreV1Api)
    kube = kubeClient()
    configMaps = await resolve(kube, 'v1/configmaps')
    if (!kubeIsExternal()) proxy = await startFaultProxy()
  })
  afterAll(() => proxy?.close())

  const window = (
    client: KubeClient,
    options: Partial<WatchWindowOptions> & { fromResourceVersion: string; windowMs: number },
  ) =>
    drain(
      watchWindow(client.watchStream, {
        resolved: configMaps,
        windowEndsAt: Date.now() + options.windowMs,
        policy: fastPolicy,
        reconnect: true,
        watchTimeoutMs: 60_000,
        ...options,
      }),
    )
  const savedVersion = async (namespace: string) =>
    (await kube.listPage({ resolved: configMaps, namespace, limit: 1 })).metadata.resourceVersion

  it('replays, in order, the changes made after a saved resourceVersion', async () => {
    const namespace = await createTestNamespace(admin, 'watch-replay')
    const saved = await savedVersion(namespace)
    await createConfigMaps(admin, namespace, 3, 'r')
    const changed = await core.readNamespacedConfigMap({ namespace, name: 'r-0001' })
    await core.replaceNamespacedConfigMap({
      namespace,
      name: 'r-0001',
      body: { ...changed, data: { k: 'v' } },
    })
    await core.deleteNamespacedConfigMap({ namespace, name: 'r-0002' })

    const { items: events, result } = await window(kube, {
      namespace,
      fromResourceVersion: saved,
      windowMs: 3_000,
    })

    const seen = events
      .filter((e) => e.type !== 'BOOKMARK')
      .map((e) => [e.type, e.object.metadata.name])
    expect(seen.slice(3)).toEqual([
      ['MODIFIED', 'r-0001'],
      ['DELETED', 'r-0002'],
    ])
    expect(seen.slice(0, 3).map(([type]) => type)).toEqual(['ADDED', 'ADDED', 'ADDED'])
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion))
    expect([...versions].sort((a, b) => a - b)).toEqual(versions)
    expect(result).toMatchObject({ outcome: 'window-ended', events: 5, reconnects: 0 })
    expect(result.resourceVersion).toBe(events.at(-1)?.object.metadata.resourceVersion)
  })

  it('advances the resourceVersion with the bookmark sent before the watch timeout', async () => {
    const quiet = await createTestNamespace(admin, 'watch-quiet')
    const busy = await createTestNamespace(admin, 'watch-busy')
    const saved = await savedVersion(quiet)
    const writes = createConfigMaps(admin, busy, 5, 'b')

    // The watch cache sends a bookmark about 2 s before a watch's deadline, when the version moved.
    const { items: events, result } = await window(kube, {
      namespace: quiet,
      fromResourceVersion: saved,
      windowMs: 12_000,
      watchTimeoutMs: 6_000,
      random: () => 0,
    })
    await writes

    expect(events.length).toBeGreaterThan(0)
    expect(events.every((e) => e.type === 'BOOKMARK')).toBe(true)
    expect(result.bookmarks).toBe(events.length)
    expect(Number(result.resourceVersion)).toBeGreaterThan(Number(saved))
    expect(result).toMatchObject({ outcome: 'window-ended', events: 0, reconnects: 0 })
  }, 30_000)

  it.skipIf(kubeIsExternal())(
    'reconnects a cut stream from the last version, losing and repeating nothing',
    async () => {
      const namespace = await createTestNamespace(admin, 'watch-cut')
      const saved = await savedVersion(namespace)
      await createConfigMaps(admin, namespace, 10, 'c')
      proxy!.addRule({
        match: and(isWatch, (r) => r.path.includes(namespace)),
        action: { kind: 'cutWatch', afterEvents: 3 },
        times: 2,
      })
      const viaProxy = kubeClient(proxy!.kubeconfigPath)

      const { items: events, result } = await window(viaProxy, {
        namespace,
        fromResourceVersion: saved,
        windowMs: 4_000,
      })

      // The server replays in resourceVersion order; a direct list tells what that order is.
      const listed = await kube.listPage({ resolved: configMaps, namespace, limit: 100 })
      const expected = listed.items
        .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
        .map((o) => o.metadata.name)
      expect(events.map((e) => e.object.metadata.name)).toEqual(expected)
      expect(result).toMatchObject({ outcome: 'window-ended', events: 10 })
      const watches = proxy!.requests.filter(
        (r) => r.url.includes(namespace) && r.url.includes('watch=true'),
      )
      const from = watches.map((r) =>
        new URL(r.url, 'http://x').searchParams.get('resourceVersion'),
      )
      // Each reconnect starts from the last event received before the cut.
      expect(from.slice(0, 3)).toEqual([
        saved,
        events[2]?.object.metadata.resourceVersion,
        events[5]?.object.metadata.resourceVersion,
      ])
      expect(result.reconnects).toBe(watches.length - 1)
    },
  )

  it.skipIf(kubeIsExternal())(
    'reconnects after toxiproxy resets the connection, with changes made during the window',
    async () => {
      const namespace = await createTestNamespace(admin, 'watch-reset')
      const saved = await savedVersion(namespace)
      const toxiproxy = new ToxiproxyClient()
      let toxic: string | undefined
      const generator = watchWindow(kubeClient(process.env.KUBECONFIG_TOXIPROXY).watchStream, {
        resolved: configMaps,
        namespace,
        fromResourceVersion: saved,
        windowEndsAt: Date.now() + 6_000,
        policy: fastPolicy,
        reconnect: true,
        watchTimeoutMs: 60_000,
      })
      const writes = createConfigMaps(admin, namespace, 5, 'before')

      try {
        const { items: events, result } = await drain(generator, async (_event, index) => {
          if (index !== 2) return
          toxic = (
            await toxiproxy.addToxic('kube', {
              type: 'reset_peer',
              attributes: { timeout: 0 },
              name: 'kms-watch-reset',
            })
          ).name
          // reset_peer acts when bytes pass: the next events reach a link that is reset.
          await writes
          await createConfigMaps(admin, namespace, 5, 'after')
          await sleep(300)
          await toxiproxy.removeToxic('kube', toxic)
          toxic = undefined
        })

        const changes = events.filter((e) => e.type !== 'BOOKMARK')
        const names = changes.map((e) => e.object.metadata.name)
        expect([...names].sort()).toEqual([
          ...Array.from({ length: 5 }, (_, i) => `after-000${i}`),
          ...Array.from({ length: 5 }, (_, i) => `before-000${i}`),
        ])
        const versions = changes.map((e) => Number(e.object.metadata.resourceVersion))
        expect([...versions].sort((a, b) => a - b)).toEqual(versions)
        expect(result.outcome).toBe('window-ended')
        expect(result.reconnects).toBeGreaterThanOrEqual(1)
      } finally {
        if (toxic) await toxiproxy.removeToxic('kube', toxic)
      }
    },
  )

  it.skipIf(kubeIsExternal())('ends a stalled stream at the window end', async () => {
    const namespace = await createTestNamespace(admin, 'watch-stall')
    const saved = await savedVersion(namespace)
    proxy!.addRule({
      match: and(isWatch, (r) => r.path.includes(namespace)),
      action: { kind: 'stallWatch' },
    })
    const started = Date.now()

    const { result } = await window(kubeClient(proxy!.kubeconfigPath), {
      namespace,
      fromResourceVersion: saved,
      windowMs: 2_500,
    })

    expect(result.outcome).toBe('window-ended')
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400)
    expect(Date.now() - started).toBeLessThan(4_000)
  })

  it('reports expired for a version older than the watch cache holds', async () => {
    // Compaction alone does not expire a watch (the watch cache still replays it); a version from
    // before the cache was filled does: the server answers 200, then an ERROR event with 410.
    const { items: events, result } = await window(kube, {
      fromResourceVersion: '1',
      windowMs: 5_000,
    })

    expect(events).toEqual([])
    expect(result).toMatchObject({
      outcome: 'expired',
      resourceVersion: '1',
      reconnects: 0,
      error: { code: 410 },
    })
  })

  it('ends the window at the deadline signal', async () => {
    const namespace = await createTestNamespace(admin, 'watch-deadline')
    const deadline = new AbortController()
    setTimeout(() => deadline.abort(), 500)

    const { result } = await window(kube, {
      namespace,
      fromResourceVersion: await savedVersion(namespace),
      windowMs: 10_000,
      signal: deadline.signal,
    })

    expect(result.outcome).toBe('deadline')
  })
})
