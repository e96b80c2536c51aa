import { describe, expect, it } from 'vitest'
import type { RefusedObject, WatchEvent } from '../../../lib/kube/types.js'
import { reconcileResource } from '../../../lib/sync/reconcile-resource.js'
import { watchResource } from '../../../lib/sync/watch-resource.js'
import { cm, defaultMassDelete, FakeSource, resolvedConfigMaps, type PageScript } from './fakes.js'
import { FakeStore } from './fake-store.js'

/*
 * Objects the Kubernetes edge refused (lib/kube/served-object.ts) on their
 * way through the sync: dead-lettered, never written, never a reason to delete.
 */

const noUid: RefusedObject = {
  key: 'invalid:0123',
  name: 'x',
  namespace: 'ns',
  reason: 'metadata.uid missing or not a non-empty string',
}
const badVersionOfB: RefusedObject = {
  key: 'b',
  uid: 'b',
  name: 'b',
  namespace: 'ns',
  reason: 'metadata.resourceVersion missing or not a non-empty string',
}

async function reconcile(pages: PageScript, store: FakeStore) {
  await store.acquireLease('test', 60_000)
  return reconcileResource({
    resolved: resolvedConfigMaps,
    source: new FakeSource(pages),
    store,
    signal: new AbortController().signal,
    remainingMs: () => 600_000,
    massDelete: defaultMassDelete,
  })
}

describe('objects refused at the edge', () => {
  it('are dead-lettered by a reconcile, and a stored one is not deleted on their account', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['b', '2'],
    ])

    const report = await reconcile(
      [{ items: [cm('a', '1')], refused: [noUid, badVersionOfB], listResourceVersion: '100' }],
      store,
    )

    expect(report).toMatchObject({ status: 'complete', deleted: 0, deadLettered: 2 })
    expect([...store.docs]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ])
    expect([...store.deadLetters.keys()]).toEqual(['invalid:0123', 'b'])
    expect(store.writes.flat()).toEqual([])
    // The complete list counts them as served: their dead letters stay until they are gone.
    expect(store.prunedDeadLetters.at(-1)).toEqual(new Set(['a', 'invalid:0123', 'b']))
    expect(store.checkpoints).toEqual(['list:100'])
  })

  it('are dead-lettered by a watch before its checkpoint moves past them', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '10' }
    const added: WatchEvent = { type: 'ADDED', object: cm('c', '12') }
    const source = new FakeSource(
      [],
      [{ events: [{ refused: { ...noUid, resourceVersion: '11' } }, added], result: {} }],
    )
    await store.acquireLease('test', 60_000)

    const report = await watchResource({
      resolved: resolvedConfigMaps,
      source,
      store,
      signal: new AbortController().signal,
      windowEndsAt: Date.now() + 60_000,
      maxBatch: 100,
      remainingMs: () => 60_000,
      massDelete: defaultMassDelete,
    })

    expect(report).toMatchObject({
      status: 'complete',
      events: 2,
      inserted: 1,
      deadLettered: 1,
      resourceVersion: '12',
    })
    expect([...store.deadLetters.keys()]).toEqual(['invalid:0123'])
    expect([...store.docs]).toEqual([['c', '12']])
  })
})
