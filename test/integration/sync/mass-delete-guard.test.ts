import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { logger } from '../../../lib/log.js'
import { parseResourceRef, stateIdOf } from '../../../lib/resource-ref.js'
import type { SyncState } from '../../../lib/store/bookkeeping/sync-state.js'
import { kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { converged, divergence, harness, namespaceWithConfigMaps, type Harness } from './harness.js'

/*
 * The mass-delete guard against the real servers, with its default settings
 * (MASS_DELETE_MAX_FRACTION=0.5, MASS_DELETE_MIN_STORED=100). Each case lists
 * one namespace of its own, so the stored count it weighs is its own 200
 * ConfigMaps whatever else the shared cluster holds.
 */

async function deleteConfigMaps(kc: KubeConfig, namespace: string, count: number) {
  const core = kc.makeApiClient(CoreV1Api)
  const limit = pLimit(16)
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() => core.deleteNamespacedConfigMap({ namespace, name: `cm-${i}` })),
    ),
  )
}

const storedIn = (h: Harness, namespace: string) =>
  h.db.collection('configmaps').countDocuments({ cluster: 'test', namespace })

describe('the mass-delete guard against the real API server and MongoDB server', () => {
  const kc = kubeConfigFrom()
  let h: Harness

  beforeAll(async () => {
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps' })
  })
  afterAll(async () => {
    await h?.close()
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('holds the deletes of 150 of 200 synced ConfigMaps until an invocation confirms them', async () => {
    const ns = await namespaceWithConfigMaps(kc, 200, 'mdg')
    const input = { resources: ['v1/configmaps'], namespaces: [ns] }
    expect((await h.reconcile(input)).resources[0]).toMatchObject({ inserted: 200 })
    await deleteConfigMaps(kc, ns, 150)
    const warn = vi.spyOn(logger, 'warn')

    const held = await h.reconcile(input)

    expect(await storedIn(h, ns)).toBe(200)
    expect(held.ok).toBe(false)
    expect(held.resources[0]).toMatchObject({
      status: 'held',
      listed: 50,
      deleted: 0,
      deletesHeld: 150,
    })
    expect(held.resources[0]!.error).toContain('would delete 150 of 200 stored documents')
    expect(warn).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({
        event: 'reconcile.deletes-held',
        resource: 'v1/configmaps',
        stored: 200,
        listed: 50,
        wouldDelete: 150,
        maxFraction: 0.5,
        minStored: 100,
      }),
    )

    const confirmed = await h.reconcile({ ...input, confirmDeletes: true })

    expect(confirmed.ok).toBe(true)
    expect(confirmed.resources[0]).toMatchObject({ status: 'complete', deleted: 150 })
    expect(await storedIn(h, ns)).toBe(50)
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  })

  it('deletes 30 of 200 as usual', async () => {
    const ns = await namespaceWithConfigMaps(kc, 200, 'mdg')
    const input = { resources: ['v1/configmaps'], namespaces: [ns] }
    await h.reconcile(input)
    await deleteConfigMaps(kc, ns, 30)

    const out = await h.reconcile(input)

    expect(out.ok).toBe(true)
    expect(out.resources[0]).toMatchObject({ status: 'complete', deleted: 30, deletesHeld: 0 })
    expect(await storedIn(h, ns)).toBe(170)
  })

  it('moves no checkpoint past a complete list whose deletes it held', async () => {
    // A complete list is of the whole cluster: LimitRanges, which no other test
    // creates, keep it to this test's objects. Every delete is held (a
    // fraction of 0, from 1 stored document).
    const strict = await harness({
      SYNC_RESOURCES: 'v1/limitranges',
      MASS_DELETE_MAX_FRACTION: '0',
      MASS_DELETE_MIN_STORED: '1',
    })
    const core = kc.makeApiClient(CoreV1Api)
    const ns = uniqueName('mdg')
    await core.createNamespace({ body: { metadata: { name: ns } } })
    try {
      for (const name of ['lr-0', 'lr-1', 'lr-2'])
        await core.createNamespacedLimitRange({
          namespace: ns,
          body: { metadata: { name }, spec: { limits: [{ type: 'Container' }] } },
        })
      const first = await strict.reconcile({ resources: ['v1/limitranges'] })
      expect(first.resources[0]).toMatchObject({ status: 'complete' })
      const stateId = stateIdOf('test', parseResourceRef('v1/limitranges')!)
      const states = strict.db.collection<SyncState>('sync_state')
      const before = (await states.findOne({ _id: stateId }))!
      await core.deleteNamespacedLimitRange({ namespace: ns, name: 'lr-0' })

      const out = await strict.reconcile({ resources: ['v1/limitranges'] })

      expect(out.resources[0]).toMatchObject({ status: 'held', deletesHeld: 1, deleted: 0 })
      const after = (await states.findOne({ _id: stateId }))!
      expect(after).toMatchObject({
        listResourceVersion: before.listResourceVersion,
        watchResourceVersion: before.watchResourceVersion,
        lastFullSyncAt: before.lastFullSyncAt,
      })
      expect(after.lastError?.message).toContain('deletes held')
    } finally {
      await strict.close()
      await core.deleteCollectionNamespacedLimitRange({ namespace: ns })
    }
  })
})
