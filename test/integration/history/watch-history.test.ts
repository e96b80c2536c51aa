import { CoreV1Api } from '@kubernetes/client-node'
import jsonPatch from 'fast-json-patch'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { compactEtcd, restartApiServer } from '../../stack/control.js'
import { configMap } from '../../stack/seed-objects.js'
import { kubeConfigFrom, kubeIsExternal, uniqueName } from '../../stack/test-helpers.js'
import { assessResource } from '../../../lib/health/freshness.js'
import { readFleetStates } from '../../../lib/health/fleet-states.js'
import { harness, type Harness } from '../sync/harness.js'
import { historyOfUid, sleep, sortedPatch } from './history-helpers.js'

/*
 * Object history on the real API server and MongoDB server (issue 19,
 * lib/store/history/): every version a watch window observes is recorded, in
 * order and before coalescing, with the exact patch from the version before.
 */

const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)
const history = { SYNC_RESOURCES: 'v1/configmaps', HISTORY_RESOURCES: 'v1/configmaps' }

/** A namespace with one ConfigMap `web`, synced by a reconcile under history. */
async function syncedConfigMap(h: Harness) {
  const namespace = uniqueName('his')
  await core.createNamespace({ body: { metadata: { name: namespace } } })
  const seeded = configMap('web', 1)
  const created = await core.createNamespacedConfigMap({
    namespace,
    body: { ...seeded, data: { ...seeded.data, step: 'v0' } },
  })
  const reconciled = await h.reconcile()
  expect(reconciled.resources[0]).toMatchObject({ status: 'complete' })
  return { namespace, uid: created.metadata!.uid!, createdAt: created.metadata!.resourceVersion! }
}

/** Five updates of `web`, 50 ms apart (one or two flushes), while a watch window runs. */
async function fiveUpdatesInOneWindow(h: Harness, namespace: string) {
  const window = h.watch({ windowSeconds: 5 })
  await sleep(1000)
  const versions: string[] = []
  for (let i = 1; i <= 5; i++) {
    const patched = await core.patchNamespacedConfigMap({
      namespace,
      name: 'web',
      body: [{ op: 'replace', path: '/data/step', value: `v${i}` }],
    })
    versions.push(patched.metadata!.resourceVersion!)
    await sleep(50)
  }
  return { out: await window, versions }
}

describe('object history of a watched resource', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('records five updates in one window as five MODIFIED versions, each with its exact patch, which rebuild the last from the first', async () => {
    h = await harness(history)
    const { namespace, uid } = await syncedConfigMap(h)
    const { out, versions } = await fiveUpdatesInOneWindow(h, namespace)
    expect(out.resources[0]).toMatchObject({ status: 'complete' })

    const recorded = await historyOfUid(h.db, uid)
    const watched = recorded.filter((d) => d.source === 'watch')
    expect(watched.map((d) => d.resourceVersion)).toEqual(versions)
    expect(watched.map((d) => d.type)).toEqual(Array(5).fill('MODIFIED'))
    expect(watched.map((d) => d.complete)).toEqual(Array(5).fill(true))
    watched.forEach((doc, i) => {
      expect(doc._id).toBe(`test/${uid}/${versions[i]}`)
      expect(sortedPatch(doc.patch)).toEqual([
        { op: 'replace', path: '/data/step', value: `v${i + 1}` },
        { op: 'replace', path: '/metadata/resourceVersion', value: versions[i] },
      ])
    })
    // Each dated when its event arrived, in order.
    const times = watched.map((d) => d.observedAt.getTime())
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    expect(times[4]! - times[0]!).toBeGreaterThanOrEqual(4 * 50)
    // The reconcile's version came first (a list cannot vouch for what came before it).
    expect(recorded[0]).toMatchObject({ source: 'reconcile', type: 'ADDED', complete: false })
    // Applying the patches in order to the first version gives the last, and the inventory's.
    let object = recorded[0]!.object
    for (const doc of recorded.slice(1))
      object = jsonPatch.applyPatch(object, jsonPatch.deepClone(doc.patch), true, false).newDocument
    expect(object).toEqual(watched[4]!.object)
    const inventory = await h.db.collection('configmaps').findOne({ uid })
    expect(object).toEqual(inventory!.object)
    expect(inventory).toMatchObject({
      resourceVersion: versions[4],
      historyResourceVersion: versions[4],
    })
    // The report and the collection agree (other ConfigMaps of the cluster may change too).
    const watchedAll = await h.db.collection('object_history').countDocuments({ source: 'watch' })
    expect(out.resources[0]!.historyWritten).toBe(watchedAll)
    expect(out.resources[0]!.historyWritten).toBeGreaterThanOrEqual(5)

    // GET /health counts them per resource, from the checkpoints that covered them.
    const { states } = await readFleetStates(h.db, { name: 'test', resources: ['v1/configmaps'] })
    const health = assessResource(
      'v1/configmaps',
      states.get('test')?.get('v1/configmaps') ?? null,
      new Date(),
      { maxSyncAgeSeconds: 3600, maxWatchAgeSeconds: 3600 },
    )
    expect(health.history).toEqual({
      lastList: { written: expect.any(Number), incomplete: expect.any(Number) },
      lastWatch: { written: watchedAll, incomplete: 0 },
    })
    expect(health.history!.lastList!.written).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('writes nothing new when the same window is replayed from the same resourceVersion', async () => {
    h = await harness(history)
    const { namespace, uid } = await syncedConfigMap(h)
    const state = await h.db.collection('sync_state').findOne({})
    const from = state!.watchResourceVersion as string
    const first = await fiveUpdatesInOneWindow(h, namespace)
    expect(first.out.resources[0]!.historyWritten).toBeGreaterThanOrEqual(5)
    const before = await h.db.collection('object_history').find({}).toArray()

    // The checkpoint goes back to where the first window started: the same events again.
    await h.db
      .collection('sync_state')
      .updateOne({ _id: state!._id }, { $set: { watchResourceVersion: from } })
    const replay = await h.watch({ windowSeconds: 3 })
    expect(replay.resources[0]).toMatchObject({ status: 'complete', historyWritten: 0 })
    expect(replay.resources[0]!.events).toBeGreaterThanOrEqual(5)
    const after = await h.db.collection('object_history').find({}).toArray()
    expect(after).toEqual(before)
    expect((await historyOfUid(h.db, uid)).filter((d) => d.source === 'watch')).toHaveLength(5)
  }, 60_000)

  it('records a delete as DELETED with the last state', async () => {
    h = await harness(history)
    const { namespace, uid } = await syncedConfigMap(h)
    const window = h.watch({ windowSeconds: 4 })
    await sleep(1000)
    const patched = await core.patchNamespacedConfigMap({
      namespace,
      name: 'web',
      body: [{ op: 'replace', path: '/data/step', value: 'last' }],
    })
    await sleep(300)
    await core.deleteNamespacedConfigMap({ namespace, name: 'web' })
    expect((await window).resources[0]).toMatchObject({ status: 'complete' })

    const recorded = await historyOfUid(h.db, uid)
    expect(recorded.map((d) => d.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED'])
    const deleted = recorded[2]!
    expect(deleted).toMatchObject({ source: 'watch', complete: true, namespace, name: 'web' })
    expect(Number(deleted.resourceVersion)).toBeGreaterThan(
      Number(patched.metadata!.resourceVersion),
    )
    expect(deleted.object).toMatchObject({ data: { step: 'last' } })
    // The DELETED version's patch, applied to the version before, gives its last state.
    const applied = jsonPatch.applyPatch(
      recorded[1]!.object,
      jsonPatch.deepClone(deleted.patch),
      true,
      false,
    ).newDocument
    expect(applied).toEqual(deleted.object)
    expect(await h.db.collection('configmaps').findOne({ uid })).toBeNull()
  }, 60_000)

  it('writes neither the inventory nor the checkpoint past a history write that failed, and the next window records it once', async () => {
    h = await harness(history)
    const { namespace, uid } = await syncedConfigMap(h)
    const checkpoint = async () =>
      (await h!.db.collection('sync_state').findOne({}))!.watchResourceVersion as string
    const before = await checkpoint()
    const inventoryBefore = await h.db.collection('configmaps').findOne({ uid })
    const versions = h.db.collection('object_history')
    const insertMany = versions.insertMany.bind(versions)
    let failed = 0
    const spy = vi.spyOn(
      versions.constructor.prototype as { insertMany: typeof insertMany },
      'insertMany',
    )
    spy.mockImplementation(function (this: { collectionName: string }, ...args) {
      if (this.collectionName === 'object_history' && failed === 0) {
        failed++
        return Promise.reject(new Error('simulated refusal of the history insert'))
      }
      return insertMany(...args)
    })
    try {
      const window = h.watch({ windowSeconds: 3 })
      await sleep(1000)
      const patched = await core.patchNamespacedConfigMap({
        namespace,
        name: 'web',
        body: [{ op: 'replace', path: '/data/step', value: 'after-the-failure' }],
      })
      const out = await window
      expect(failed).toBe(1)
      expect(out.resources[0]).toMatchObject({ status: 'failed', historyWritten: 0 })
      expect(await checkpoint()).toBe(before)
      expect(await h.db.collection('configmaps').findOne({ uid })).toEqual(inventoryBefore)

      const next = await h.watch({ windowSeconds: 3 })
      expect(next.resources[0]).toMatchObject({ status: 'complete' })
      const recorded = (await historyOfUid(h.db, uid)).filter((d) => d.source === 'watch')
      expect(recorded.map((d) => [d.resourceVersion, d.complete])).toEqual([
        [patched.metadata!.resourceVersion, true],
      ])
      expect(await h.db.collection('configmaps').findOne({ uid })).toMatchObject({
        resourceVersion: patched.metadata!.resourceVersion,
        historyResourceVersion: patched.metadata!.resourceVersion,
      })
    } finally {
      spy.mockRestore()
    }
  }, 60_000)

  it.skipIf(kubeIsExternal())(
    'records a change missed by a watch outage longer than the server keeps events as complete: false, from the relist',
    async () => {
      h = await harness(history)
      const { namespace, uid } = await syncedConfigMap(h)
      // The outage: two updates no watch sees, then the server forgets them.
      for (const step of ['missed', 'seen-by-the-relist'])
        await core.patchNamespacedConfigMap({
          namespace,
          name: 'web',
          body: [{ op: 'replace', path: '/data/step', value: step }],
        })
      const live = await core.readNamespacedConfigMap({ namespace, name: 'web' })
      await compactEtcd()
      await restartApiServer()
      const out = await h.watch({ windowSeconds: 8 })
      expect(out.resources[0]).toMatchObject({ status: 'complete', relists: 1 })
      expect(out.resources[0]!.historyIncomplete).toBeGreaterThanOrEqual(1)

      const recorded = await historyOfUid(h.db, uid)
      expect(recorded.map((d) => [d.type, d.source, d.complete])).toEqual([
        ['ADDED', 'reconcile', false],
        ['MODIFIED', 'reconcile', false],
      ])
      const relisted = recorded[1]!
      expect(relisted.resourceVersion).toBe(live.metadata!.resourceVersion)
      expect(relisted.object).toMatchObject({ data: { step: 'seen-by-the-relist' } })
      // The stored version was recorded, so the patch spans the gap exactly.
      expect(sortedPatch(relisted.patch)).toEqual([
        { op: 'replace', path: '/data/step', value: 'seen-by-the-relist' },
        { op: 'replace', path: '/metadata/resourceVersion', value: relisted.resourceVersion },
      ])
    },
    120_000,
  )
})
