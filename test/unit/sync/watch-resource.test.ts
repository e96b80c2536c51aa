import { describe, expect, it, vi } from 'vitest'
import { DeadlineError } from '../../../lib/errors.js'
import type { WatchEvent } from '../../../lib/kube/types.js'
import { watchResource } from '../../../lib/sync/watch-resource.js'
import { cm, defaultMassDelete, FakeSource, resolvedConfigMaps } from './fakes.js'
import { FakeStore } from './fake-store.js'

const ev = (type: WatchEvent['type'], uid: string, rv: string): WatchEvent => ({
  type,
  object: cm(uid, rv),
})
const bookmark = (rv: string): WatchEvent => ({ type: 'BOOKMARK', object: cm('', rv) })

async function run(source: FakeSource, store: FakeStore, signal = new AbortController().signal) {
  // The caller holds the lease (watch-run.ts).
  await store.acquireLease('test', 60_000)
  return watchResource({
    resolved: resolvedConfigMaps,
    source,
    store,
    signal,
    windowEndsAt: Date.now() + 60_000,
    maxBatch: 100,
    remainingMs: () => 60_000,
    massDelete: defaultMassDelete,
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

  it('leaves a resource without any checkpoint to the reconcile function: no list, no watch, relistNeeded', async () => {
    const store = new FakeStore()
    const source = new FakeSource(
      [{ items: [cm('a', '1')], listResourceVersion: '50' }],
      [{ events: [], result: {} }],
    )
    const listing = vi.spyOn(source, 'listPages')
    const report = await run(source, store)
    expect(report).toMatchObject({ status: 'partial', relists: 0, relistNeeded: true })
    expect(report.error).toContain('left to the reconcile function')
    expect(listing).not.toHaveBeenCalled()
    expect(source.watchedFrom).toEqual([])
    expect(store.docs.size).toBe(0)
  })

  it('relists a resource marked for relist first, then watches from the list version', async () => {
    const store = new FakeStore()
    store.state = { listResourceVersion: '3', watchResourceVersion: '3', needsRelist: true }
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

  it('leaves deletes a relist would make past the mass-delete guard undone, and needs another relist', async () => {
    const store = new FakeStore()
    for (let i = 0; i < 200; i++) store.docs.set(`cm-${i}`, '1')
    store.state = { watchResourceVersion: '3', needsRelist: true }
    const source = new FakeSource([{ items: [cm('cm-0', '1')], listResourceVersion: '70' }])
    const report = await run(source, store)
    expect(report).toMatchObject({ relists: 1, relistNeeded: true, deleted: 0 })
    expect(report.error).toContain('relist held: deletes held')
    expect(store.docs.size).toBe(200)
    expect(store.checkpoints).toEqual([])
  })

  it('counts what a relist wrote even when the relist did not complete, and needs another', async () => {
    const store = new FakeStore()
    store.state = { listResourceVersion: '3', watchResourceVersion: '3', needsRelist: true }
    const source = new FakeSource([{ items: [cm('a', '1')] }, new Error('connection reset')])
    const report = await run(source, store)
    expect(report).toMatchObject({ status: 'failed', relists: 1, relistNeeded: true, inserted: 1 })
    expect(report.error).toContain('relist failed')
    expect(store.checkpoints).toEqual([])
  })

  it('gives its writes the deadline: once it fires, nothing more is written, the checkpoint stays, partial', async () => {
    const store = new FakeStore()
    store.state = { listResourceVersion: '10', watchResourceVersion: '10' }
    const deadline = new AbortController()
    const signals: Array<AbortSignal | undefined> = []
    const write = store.write.bind(store)
    store.write = (ops, signal, source) => {
      signals.push(signal)
      // As the bulk writer does: no chunk starts once the signal has fired.
      if (signal?.aborted) return Promise.reject(new DeadlineError('stopped by the deadline'))
      return write(ops, signal, source)
    }
    const source = new FakeSource(
      [],
      [{ events: [ev('ADDED', 'a', '11'), ev('ADDED', 'b', '12')], result: {} }],
    )
    const watch = source.watch.bind(source)
    source.watch = async function* (r, options) {
      const result = yield* watch(r, options)
      // The deadline fires after the events were read, before their batch is written.
      deadline.abort(new DeadlineError('deadline reached'))
      return result
    }
    const report = await run(source, store, deadline.signal)
    expect(signals.length).toBeGreaterThan(0)
    expect(signals.every((s) => s?.aborted)).toBe(true)
    expect(report.status).toBe('partial')
    expect(report.error).toMatch(/deadline reached: watch writes stopped/)
    expect(store.docs.size).toBe(0)
    expect(store.checkpoints).toEqual([])
  })

  it('stops a relist the window ends, cleanly: partial, relistNeeded, no checkpoint', async () => {
    const store = new FakeStore()
    store.state = { listResourceVersion: '3', watchResourceVersion: '3', needsRelist: true }
    const source = new FakeSource([{ items: [cm('a', '1')] }, { items: [cm('b', '2')] }])
    const pages = source.listPages.bind(source)
    source.listPages = async function* (r, options) {
      for await (const page of pages(r, options)) {
        yield page
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    }
    const started = Date.now()
    const report = await watchResource({
      resolved: resolvedConfigMaps,
      source,
      store,
      signal: new AbortController().signal,
      windowEndsAt: Date.now() + 100,
      maxBatch: 100,
      remainingMs: () => 60_000,
      massDelete: defaultMassDelete,
    })
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(report).toMatchObject({ status: 'partial', relists: 1, relistNeeded: true, deleted: 0 })
    expect(report.error).toMatch(/relist partial: .*window ended during the relist/)
    expect(store.checkpoints).toEqual([])
  })
})
