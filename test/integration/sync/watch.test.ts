import { CoreV1Api } from '@kubernetes/client-node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { compactEtcd, restartApiServer } from '../../stack/control.js'
import { and, isWatch, pathMatches, startFaultProxy } from '../../stack/fault-proxy.js'
import { configMap } from '../../stack/seed-objects.js'
import { kubeConfigFrom, kubeIsExternal, uniqueName } from '../../stack/test-helpers.js'
import { converged, divergence, harness, namespaceWithConfigMaps, type Harness } from './harness.js'
import { captureOutput } from '../store/helpers.js'

describe('watch against the real API server and MongoDB server', () => {
  const kc = kubeConfigFrom()
  const core = kc.makeApiClient(CoreV1Api)
  let h: Harness | undefined

  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('lands 200 creates, updates and deletes made during a 15 s window, each within about a second', async () => {
    // PodTemplates: a kind no other test seeds, so the inventory holds only this
    // test's objects and the lag measures our pipeline, not the size of what
    // other tests left in the shared cluster.
    const podTemplate = (name: string, i: number) => ({
      metadata: { name, labels: { 'app.kubernetes.io/name': `lag-${i % 7}` } },
      template: {
        metadata: { labels: { step: '0' } },
        spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
      },
    })
    const namespaces = [uniqueName('lag'), uniqueName('lag')]
    for (const namespace of namespaces) {
      await core.createNamespace({ body: { metadata: { name: namespace } } })
      for (let i = 0; i < 40; i++)
        await core.createNamespacedPodTemplate({ namespace, body: podTemplate(`pt-${i}`, i) })
    }
    h = await harness({ SYNC_RESOURCES: 'v1/podtemplates' })
    await h.reconcile()
    const madeAt = new Map<string, number>()
    // When each change the API server accepted was acknowledged (a delete of a name already gone
    // changes nothing): the window must see every one made well before it closed.
    const acceptedAt: number[] = []
    const changes = (async () => {
      await new Promise((r) => setTimeout(r, 1000))
      for (let i = 0; i < 200; i++) {
        const namespace = namespaces[i % 2]!
        const n = Math.floor(i / 2)
        if (i % 4 === 0) {
          const created = await core.createNamespacedPodTemplate({
            namespace,
            body: podTemplate(`new-${i}`, i),
          })
          madeAt.set(`${created.metadata!.uid}/${created.metadata!.resourceVersion}`, Date.now())
          acceptedAt.push(Date.now())
        } else if (i % 4 === 1 || i % 4 === 2) {
          const patched = await core.patchNamespacedPodTemplate({
            namespace,
            name: `pt-${n % 40}`,
            body: [{ op: 'replace', path: '/template/metadata/labels/step', value: `v${i}` }],
          })
          madeAt.set(`${patched.metadata!.uid}/${patched.metadata!.resourceVersion}`, Date.now())
          acceptedAt.push(Date.now())
        } else {
          const deleted = await core
            .deleteNamespacedPodTemplate({ namespace, name: `pt-${(n % 20) + 20}` })
            .then(() => true)
            .catch(() => false)
          if (deleted) acceptedAt.push(Date.now())
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    // The window opens after this call starts, so it closes 15 s after it at the earliest.
    const calledAt = Date.now()
    const out = await h.watch({ windowSeconds: 15 })
    await changes
    expect(out.resources[0]).toMatchObject({ status: 'complete', relists: 0 })
    // How many changes fit in the window depends on the machine's load; that the window sees
    // each one made 2 s or more before it closed does not.
    const wellInside = acceptedAt.filter((t) => t <= calledAt + 15_000 - 2000).length
    expect(wellInside).toBeGreaterThan(50)
    expect(out.resources[0]!.events).toBeGreaterThanOrEqual(wellInside)
    // Anything the window did not see (made after it closed) a second short window replays.
    await h.watch({ windowSeconds: 3 })
    expect(await divergence(kc, h.db, 'v1/podtemplates', 'PodTemplate', namespaces)).toMatchObject(
      converged,
    )

    const lags: number[] = []
    for await (const doc of h.db
      .collection('podtemplates')
      .find({ namespace: { $in: namespaces } })) {
      const made = madeAt.get(`${String(doc.uid)}/${String(doc.resourceVersion)}`)
      if (made !== undefined) lags.push((doc.syncedAt as Date).getTime() - made)
    }
    lags.sort((a, b) => a - b)
    const p50 = lags[Math.floor(lags.length * 0.5)]!
    const p99 = lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))]!
    console.info(`watch lag over ${lags.length} changes: p50 ${p50} ms, p99 ${p99} ms`)
    expect(lags.length).toBeGreaterThan(50)
    expect(p50).toBeLessThan(1000)
  }, 120_000)

  it('loses nothing and keeps order when the stream is cut three times mid-window', async () => {
    const ns = await namespaceWithConfigMaps(kc, 10, 'wat')
    const proxy = await startFaultProxy()
    const logs = captureOutput()
    try {
      h = await harness(
        { SYNC_RESOURCES: 'v1/configmaps', RETRY_INITIAL_DELAY_MS: '200' },
        proxy.kubeconfigPath,
      )
      await h.reconcile()
      proxy.addRule({
        match: and(isWatch, pathMatches(/\/configmaps$/)),
        action: { kind: 'cutWatch', afterEvents: 5 },
        times: 3,
      })
      const changes = (async () => {
        for (let i = 0; i < 60; i++) {
          await core.patchNamespacedConfigMap({
            namespace: ns,
            name: `cm-${i % 10}`,
            body: [{ op: 'replace', path: '/data/LOG_LEVEL', value: `step-${i}` }],
          })
          await new Promise((r) => setTimeout(r, 60))
        }
      })()
      const out = await h.watch({ windowSeconds: 10 })
      await changes
      logs.restore()
      expect(out.resources[0]).toMatchObject({ status: 'complete' })
      expect(out.resources[0]!.reconnects).toBeGreaterThanOrEqual(3)
      const events = logs.events().map((l) => l.event)
      expect(events.filter((e) => e === 'watch.reconnecting').length).toBeGreaterThanOrEqual(3)
      expect(events.filter((e) => e === 'watch.reconnected').length).toBeGreaterThanOrEqual(3)
      // Attempts reset after each successful reconnect: never past the first.
      const attempts = logs
        .events()
        .filter((l) => l.event === 'watch.reconnecting')
        .map((l) => l.attempt)
      expect(new Set(attempts)).toEqual(new Set([1]))
      // Every object holds its last value: nothing lost, nothing applied out of order.
      await h.watch({ windowSeconds: 2 })
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
        converged,
      )
      for await (const doc of h.db.collection('configmaps').find({ namespace: ns })) {
        const i = Number(String(doc.name).slice(3))
        expect((doc.object as { data: { LOG_LEVEL: string } }).data.LOG_LEVEL).toBe(
          `step-${50 + i}`,
        )
      }
    } finally {
      logs.restore()
      await proxy.close()
    }
  }, 120_000)

  it.skipIf(kubeIsExternal())(
    'relists within the same invocation when the checkpoint is older than the server history (real 410)',
    async () => {
      const ns = await namespaceWithConfigMaps(kc, 20, 'wat')
      h = await harness({ SYNC_RESOURCES: 'v1/configmaps' })
      await h.reconcile()
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-0' })
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: configMap('after-checkpoint', 1),
      })
      // A watch cache keeps serving old versions it still holds; a restarted
      // API server fills its cache from the compacted store, so the checkpoint
      // is now history for real.
      await compactEtcd()
      await restartApiServer()
      const out = await h.watch({ windowSeconds: 8 })
      expect(out.resources[0]).toMatchObject({
        status: 'complete',
        relists: 1,
        relistNeeded: false,
      })
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
        converged,
      )
    },
    120_000,
  )

  it('never lets two overlapping invocations work one resource, and ends right', async () => {
    const ns = await namespaceWithConfigMaps(kc, 10, 'wat')
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps' })
    await h.reconcile()
    const first = h.watch({ windowSeconds: 6 })
    await new Promise((r) => setTimeout(r, 1500))
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('during-overlap', 1) })
    const late = await h.watch({ windowSeconds: 3 })
    const early = await first
    expect(late.resources[0]).toMatchObject({ status: 'skipped' })
    expect(early.resources[0]).toMatchObject({ status: 'complete' })
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  }, 60_000)

  it('repeats work after a crash between the writes and the checkpoint, and ends exactly right', async () => {
    const ns = await namespaceWithConfigMaps(kc, 10, 'wat')
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps' })
    await h.reconcile()
    const before = await h.db.collection('sync_state').findOne({})
    const real = h.source
    // The "process" dies after its first batch is written, before the checkpoint.
    const crashingDb = h.db
    const states = crashingDb.collection('sync_state')
    const updateOne = states.updateOne.bind(states)
    let crashed = false
    const spy = vi.spyOn(
      states.constructor.prototype as { updateOne: typeof updateOne },
      'updateOne',
    )
    spy.mockImplementation(function (this: unknown, ...args: Parameters<typeof updateOne>) {
      const update = JSON.stringify(args[1])
      if (
        !crashed &&
        update.includes('watchResourceVersion') &&
        !update.includes('listResourceVersion')
      ) {
        crashed = true
        return Promise.reject(new Error('simulated crash before the checkpoint'))
      }
      return updateOne(...args)
    })
    const changes = (async () => {
      await new Promise((r) => setTimeout(r, 500))
      for (let i = 0; i < 10; i++)
        await core.patchNamespacedConfigMap({
          namespace: ns,
          name: `cm-${i}`,
          body: [{ op: 'replace', path: '/data/LOG_LEVEL', value: 'after' }],
        })
    })()
    const crashedRun = await h.watch({ windowSeconds: 3 })
    await changes
    spy.mockRestore()
    expect(crashed).toBe(true)
    expect(crashedRun.resources[0]!.status).toBe('failed')
    const after = await h.db.collection('sync_state').findOne({})
    expect(after!.watchResourceVersion).toBe(before!.watchResourceVersion)
    h.source = real
    const next = await h.watch({ windowSeconds: 3 })
    expect(next.resources[0]!.status).toBe('complete')
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  }, 60_000)
})
