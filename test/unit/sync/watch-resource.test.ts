import { describe, expect, it } from 'vitest'
import type { WatchEvent } from '../../../lib/kube/types.js'
import { watchResource } from '../../../lib/sync/watch-resource.js'
import { cm, FakeSource, resolvedConfigMaps } from './fakes.js'
import { FakeStore } from './fake-store.js'

const ev = (type: WatchEvent['type'], uid: string, rv: string): WatchEvent => ({
  type,
  object: cm(uid, rv),
})
const bookmark = (rv: string): WatchEvent => ({ type: 'BOOKMARK', object: cm('', rv) })

async function run(source: FakeSource, store: FakeStore) {
  // The caller holds the lease (watch-run.ts).
  await store.acquireLease('test', 60_000)
  return watchResource({
    resolved: resolvedConfigMaps,
    source,
    store,
    signal: new AbortController().signal,
    windowEndsAt: Date.now() + 60_000,
    maxBatch: 100,
    remainingMs: () => 60_000,
  })
}

describe('watchResource', () => {
  it('applies events from the saved checkpoint and saves the last version after the writes', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '10' }
    store.docs = new Map([['a', '5']])
    const source = new FakeSource(
      [],
      [
        {
          events: [
            ev('MODIFIED', 'a', '11'),
            ev('ADDED', 'b', '12'),
            ev('DELETED', 'a', '13'),
            bookmark('20'),
          ],
          result: {},
        },
      ],
    )
    const report = await run(source, store)
    expect(source.watchedFrom).toEqual(['10'])
    expect(report).toMatchObject({
      status: 'complete',
      events: 3,
      bookmarks: 1,
      inserted: 1,
      deleted: 1,
      resourceVersion: '20',
    })
    expect([...store.docs]).toEqual([['b', '12']])
    expect(store.checkpoints.at(-1)).toBe('watch:20')
  })

  it('reconciles a resource without a checkpoint first, then watches from the list version', async () => {
    const store = new FakeStore()
    const source = new FakeSource(
      [{ items: [cm('a', '1')], listResourceVersion: '50' }],
      [{ events: [], result: {} }],
    )
    const report = await run(source, store)
    expect(report.relists).toBe(1)
    expect(source.watchedFrom).toEqual(['50'])
    expect(store.docs.get('a')).toBe('1')
  })

  it('on 410 marks the resource, relists it within the window and watches on from the new version', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '3' }
    const source = new FakeSource(
      [{ items: [cm('a', '70')], listResourceVersion: '70' }],
      [
        { events: [], result: { outcome: 'expired' } },
        { events: [ev('ADDED', 'b', '71')], result: {} },
      ],
    )
    const report = await run(source, store)
    expect(report).toMatchObject({
      status: 'complete',
      relists: 1,
      relistNeeded: false,
      resourceVersion: '71',
    })
    expect(source.watchedFrom).toEqual(['3', '70'])
    expect(store.checkpoints).toEqual(['list:70', 'watch:71'])
  })

  it('stamps a quiet window at the version it started from, so a quiet resource does not look stalled', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '10' }
    const source = new FakeSource([], [{ events: [], result: {} }])
    const report = await run(source, store)
    expect(report).toMatchObject({ status: 'complete', events: 0, bookmarks: 0 })
    expect(store.checkpoints).toEqual(['watch:10'])
  })

  it('does not move the checkpoint past a write that failed', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '10' }
    store.failWritesAfter = 0
    const source = new FakeSource([], [{ events: [ev('ADDED', 'a', '11')], result: {} }])
    const report = await run(source, store)
    expect(report.status).toBe('failed')
    expect(store.checkpoints).toEqual([])
  })

  it('moves the checkpoint past an event the server refused, which it counts as dead-lettered', async () => {
    const store = new FakeStore()
    store.state = { watchResourceVersion: '10' }
    store.refuse = new Set(['a'])
    const source = new FakeSource(
      [],
      [{ events: [ev('ADDED', 'a', '11'), ev('ADDED', 'b', '12')], result: {} }],
    )
    const report = await run(source, store)
    expect(report).toMatchObject({ status: 'complete', inserted: 1, deadLettered: 1 })
    expect([...store.docs.keys()]).toEqual(['b'])
    expect(store.checkpoints).toEqual(['watch:12'])
  })

  it('counts what a relist wrote even when the relist did not complete, and needs another', async () => {
    const store = new FakeStore()
    const source = new FakeSource([{ items: [cm('a', '1')] }, new Error('connection reset')])
    const report = await run(source, store)
    expect(report).toMatchObject({ status: 'failed', relists: 1, relistNeeded: true, inserted: 1 })
    expect(report.error).toContain('relist failed')
    expect(store.checkpoints).toEqual([])
  })
})
