import { afterEach, describe, expect, it, vi } from 'vitest'
import type { KubeObject } from '../../../lib/kube/types.js'
import { logger } from '../../../lib/log.js'
import { reconcileResource } from '../../../lib/sync/reconcile-resource.js'
import { cm, defaultMassDelete, FakeSource, resolvedConfigMaps } from './fakes.js'
import { FakeStore } from './fake-store.js'

/** A reconcile pass under the lease (reconcile-run.ts), with the default mass-delete guard (0.5 of at least 100). */
async function reconcile(
  store: FakeStore,
  items: KubeObject[],
  extra: { dryRun?: boolean; confirmDeletes?: boolean } = {},
) {
  if (!extra.dryRun) await store.acquireLease('test', 60_000)
  return reconcileResource({
    resolved: resolvedConfigMaps,
    source: new FakeSource([{ items, listResourceVersion: '500' }]),
    store,
    signal: new AbortController().signal,
    remainingMs: () => 600_000,
    massDelete: defaultMassDelete,
    ...extra,
  })
}

/** `count` ConfigMaps stored at version 1: cm-0, cm-1, ... */
function storeWith(count: number): FakeStore {
  const store = new FakeStore()
  for (let i = 0; i < count; i++) store.docs.set(`cm-${i}`, '1')
  return store
}

/** The first `count` of them, as the cluster still serves them. */
const listedOf = (count: number) => Array.from({ length: count }, (_, i) => cm(`cm-${i}`, '1'))

describe('a complete list and the mass-delete guard', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('holds every delete of a list that would delete 150 of 200 stored, keeps its writes, and moves no checkpoint', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const store = storeWith(200)
    const items = [cm('cm-0', '7'), ...listedOf(50).slice(1), cm('fresh', '8')]
    const report = await reconcile(store, items)
    expect(report).toMatchObject({
      status: 'held',
      deletesHeld: 150,
      deleted: 0,
      inserted: 1,
      updated: 1,
      listed: 51,
    })
    expect(report.error).toContain('would delete 150 of 200 stored documents')
    expect(report.listResourceVersion).toBeUndefined()
    expect(store.docs.size).toBe(201)
    expect(store.docs.get('cm-0')).toBe('7')
    expect(store.checkpoints).toEqual([])
    expect(store.prunedDeadLetters).toEqual([])
    expect(store.state.lastError?.message).toContain('deletes held')
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('deletes held'),
      expect.objectContaining({
        event: 'reconcile.deletes-held',
        resource: 'v1/configmaps',
        stored: 200,
        listed: 51,
        wouldDelete: 150,
        maxFraction: 0.5,
        minStored: 100,
        maxDeletes: 100,
      }),
    )
  })

  it('holds them again on the next reconcile, until an invocation confirms them', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const store = storeWith(200)
    expect((await reconcile(store, listedOf(50))).status).toBe('held')
    expect((await reconcile(store, listedOf(50))).status).toBe('held')
    expect(store.docs.size).toBe(200)
    const confirmed = await reconcile(store, listedOf(50), { confirmDeletes: true })
    expect(confirmed).toMatchObject({ status: 'complete', deleted: 150, deletesHeld: 0 })
    expect(store.docs.size).toBe(50)
    expect(store.checkpoints).toEqual(['list:500'])
  })

  it('deletes as usual when the list deletes no more than the fraction (30 of 200)', async () => {
    const store = storeWith(200)
    const report = await reconcile(store, listedOf(170))
    expect(report).toMatchObject({ status: 'complete', deleted: 30, deletesHeld: 0 })
    expect(store.docs.size).toBe(170)
    expect(store.checkpoints).toEqual(['list:500'])
  })

  it('lets a resource below the minimum stored count empty out', async () => {
    const store = storeWith(99)
    const report = await reconcile(store, [])
    expect(report).toMatchObject({ status: 'complete', deleted: 99 })
    expect(store.docs.size).toBe(0)
  })

  it('says held on a dry run, and writes nothing, not even the error', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const store = storeWith(200)
    const report = await reconcile(store, listedOf(10), { dryRun: true })
    expect(report).toMatchObject({ status: 'held', deletesHeld: 190, deleted: 0 })
    expect(store.writes).toEqual([])
    expect(store.state.lastError).toBeUndefined()
  })
})
