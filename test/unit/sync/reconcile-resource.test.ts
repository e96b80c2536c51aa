import { describe, expect, it } from 'vitest'
import { DeadlineError } from '../../../lib/errors.js'
import { reconcileResource } from '../../../lib/sync/reconcile-resource.js'
import { cm, defaultMassDelete, FakeSource, resolvedConfigMaps, type PageScript } from './fakes.js'
import { FakeStore } from './fake-store.js'

/** The lease a test takes: the caller holds it (reconcile-run.ts); a dry run only reads, and takes none. */
const LEASE_TTL_MS = 60_000

async function run(
  pages: PageScript,
  store = new FakeStore(),
  extra: { dryRun?: boolean; signal?: AbortSignal; namespaces?: string[] } = {},
) {
  if (!extra.dryRun) await store.acquireLease('test', LEASE_TTL_MS)
  return reconcileResource({
    resolved: resolvedConfigMaps,
    source: new FakeSource(pages),
    store,
    signal: extra.signal ?? new AbortController().signal,
    remainingMs: () => 600_000,
    massDelete: defaultMassDelete,
    ...(extra.dryRun ? { dryRun: true } : {}),
    ...(extra.namespaces ? { namespaces: extra.namespaces } : {}),
  })
}

describe('reconcileResource', () => {
  it('converges: inserts, updates and deletes exactly what changed, then saves the list checkpoint', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['b', '2'],
      ['gone', '3'],
    ])
    const report = await run(
      [
        { items: [cm('a', '1'), cm('b', '5')] },
        { items: [cm('c', '6')], listResourceVersion: '100' },
      ],
      store,
    )
    expect(report).toMatchObject({
      status: 'complete',
      listed: 3,
      inserted: 1,
      updated: 1,
      deleted: 1,
      unchanged: 1,
      pages: 2,
    })
    expect([...store.docs]).toEqual([
      ['a', '1'],
      ['b', '5'],
      ['c', '6'],
    ])
    expect(store.checkpoints).toEqual(['list:100'])
  })

  it('writes nothing on a resync when nothing changed', async () => {
    const store = new FakeStore()
    store.docs = new Map([['a', '1']])
    const report = await run([{ items: [cm('a', '1')] }], store)
    expect(report).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: 1 })
    expect(store.writes).toEqual([])
  })

  it('does not delete when the list did not complete', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['b', '2'],
    ])
    const report = await run(
      [{ items: [cm('a', '1')] }, Object.assign(new Error('Forbidden'), { code: 403 })],
      store,
    )
    expect(report.status).toBe('failed')
    expect(report.error).toContain('Forbidden')
    expect(store.docs.has('b')).toBe(true)
    expect(store.checkpoints).toEqual([])
  })

  it('stops at the deadline with a partial report, no deletes and no checkpoint', async () => {
    const store = new FakeStore()
    store.docs = new Map([['old', '1']])
    const controller = new AbortController()
    const pages: PageScript = [{ items: [cm('a', '2')] }, { items: [cm('b', '3')] }]
    const source = new FakeSource(pages)
    const iterate = source.listPages.bind(source)
    source.listPages = async function* (r, o) {
      for await (const p of iterate(r, o)) {
        yield p
        controller.abort(new DeadlineError('deadline reached'))
      }
    }
    await store.acquireLease('test', LEASE_TTL_MS)
    const report = await reconcileResource({
      resolved: resolvedConfigMaps,
      source,
      store,
      signal: controller.signal,
      remainingMs: () => 0,
      massDelete: defaultMassDelete,
    })
    expect(report.status).toBe('partial')
    expect(report.error).toContain('nothing deleted')
    expect(store.docs.has('old')).toBe(true)
    expect(store.docs.get('a')).toBe('2') // the page it had was written
    expect(store.checkpoints).toEqual([])
  })

  it('does not delete after following an inconsistent continue token, and asks for a relist', async () => {
    const store = new FakeStore()
    store.docs = new Map([['b', '2']])
    const report = await run([{ items: [cm('a', '1')] }, { items: [], consistent: false }], store)
    expect(report.status).toBe('partial')
    expect(store.docs.has('b')).toBe(true)
    expect(store.state.needsRelist).toBe(true)
    expect(store.checkpoints).toEqual([])
  })

  it('starts the seen set over when the list restarts after a 410', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['b', '2'],
    ])
    // First pass saw "a", then restarted: "b" was deleted meanwhile and must go.
    const report = await run(
      [{ items: [cm('a', '1')] }, { items: [cm('a', '1')], restarted: true }],
      store,
    )
    expect(report).toMatchObject({ status: 'complete', listed: 1, deleted: 1 })
    expect([...store.docs.keys()]).toEqual(['a'])
  })

  it('never writes an older version over a newer one a watch stored meanwhile', async () => {
    const store = new FakeStore()
    store.docs = new Map([['a', '9']])
    const report = await run([{ items: [cm('a', '7')] }], store)
    expect(report.unchanged).toBe(1)
    expect(store.docs.get('a')).toBe('9')
  })

  it('does not move the resource checkpoint after a list of some namespaces only', async () => {
    const store = new FakeStore()
    const report = await run([{ items: [cm('a', '1')] }], store, { namespaces: ['ns'] })
    expect(report.status).toBe('complete')
    expect(store.docs.get('a')).toBe('1')
    expect(store.checkpoints).toEqual([])
  })

  it('reports what it would do on a dry run and writes nothing', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['gone', '2'],
    ])
    const report = await run([{ items: [cm('a', '4'), cm('new', '5')] }], store, { dryRun: true })
    expect(report).toMatchObject({
      status: 'complete',
      inserted: 1,
      updated: 1,
      deleted: 1,
      unchanged: 0,
    })
    expect(store.writes).toEqual([])
    expect(store.checkpoints).toEqual([])
  })

  it('counts what the store dead-lettered, and still completes and saves the checkpoint', async () => {
    const store = new FakeStore()
    store.refuse = new Set(['b'])
    const report = await run([{ items: [cm('a', '1'), cm('b', '2'), cm('c', '3')] }], store)
    expect(report).toMatchObject({ status: 'complete', inserted: 2, deadLettered: 1 })
    expect([...store.docs.keys()]).toEqual(['a', 'c'])
    expect(store.checkpoints).toEqual(['list:100'])
  })

  it('drops the dead letters of objects a complete list no longer serves', async () => {
    const store = new FakeStore()
    store.deadLetters = new Map([
      ['gone', 1],
      ['a', 2],
    ])
    store.refuse = new Set(['a'])
    const report = await run([{ items: [cm('a', '1')] }], store)
    expect(report.deadLettered).toBe(1)
    expect([...store.deadLetters]).toEqual([['a', 3]])
  })

  it('keeps every dead letter when the list did not complete', async () => {
    const store = new FakeStore()
    store.deadLetters = new Map([['gone', 1]])
    await run([{ items: [cm('a', '1')] }, Object.assign(new Error('boom'), { code: 500 })], store)
    await run([{ items: [cm('a', '1')] }, { items: [], consistent: false }], store)
    expect(store.prunedDeadLetters).toEqual([])
    expect([...store.deadLetters.keys()]).toEqual(['gone'])
  })

  it('lists the first pages while the version index is still loading', async () => {
    const store = new FakeStore()
    store.docs = new Map([['a', '1']])
    let pagesListed = 0
    let pagesListedBeforeIndex = -1
    const source = new FakeSource([
      { items: [cm('a', '1')] },
      { items: [cm('b', '2')] },
      { items: [cm('c', '3')] },
    ])
    const listPages = source.listPages.bind(source)
    source.listPages = async function* (resolved, options) {
      for await (const page of listPages(resolved, options)) {
        pagesListed++
        yield page
      }
    }
    store.loadVersions = async () => {
      // The index takes as long as two pages of the list.
      while (pagesListed < 2) await new Promise((resolve) => setTimeout(resolve, 1))
      pagesListedBeforeIndex = pagesListed
      return new Map(store.docs)
    }
    await store.acquireLease('test', LEASE_TTL_MS)
    const report = await reconcileResource({
      resolved: resolvedConfigMaps,
      source,
      store,
      signal: new AbortController().signal,
      remainingMs: () => 600_000,
      massDelete: defaultMassDelete,
    })
    expect(pagesListedBeforeIndex).toBeGreaterThanOrEqual(2)
    expect(report).toMatchObject({ status: 'complete', inserted: 2, unchanged: 1 })
  })

  it('fails without writing when the version index cannot be loaded', async () => {
    const store = new FakeStore()
    store.loadVersions = () => Promise.reject(new Error('index unreadable'))
    const report = await run([{ items: [cm('a', '1')] }, { items: [cm('b', '2')] }], store)
    expect(report.status).toBe('failed')
    expect(report.error).toContain('index unreadable')
    expect(store.writes).toEqual([])
    expect(store.checkpoints).toEqual([])
  })

  it('hands the store the whole index as it stands after a complete pass', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1'],
      ['b', '2'],
      ['gone', '3'],
    ])
    await run([{ items: [cm('a', '1'), cm('b', '5')] }, { items: [cm('c', '6')] }], store)
    expect(store.savedVersions).toEqual([store.docs])
    expect([...store.savedVersions[0]!]).toEqual([
      ['a', '1'],
      ['b', '5'],
      ['c', '6'],
    ])
  })

  it('does not hand over the index when a guard kept a write from landing as planned', async () => {
    const store = new FakeStore()
    store.tombstones.add('deleted-meanwhile')
    const report = await run([{ items: [cm('a', '1'), cm('deleted-meanwhile', '2')] }], store)
    expect(report.status).toBe('complete')
    expect(store.savedVersions).toEqual([])
  })

  it('does not hand over the index after an incomplete, namespaced or dry pass', async () => {
    const store = new FakeStore()
    await run([{ items: [cm('a', '1')] }, new Error('reset')], store)
    await run([{ items: [cm('a', '1')] }], store, { namespaces: ['ns'] })
    await run([{ items: [cm('a', '1')] }], store, { dryRun: true })
    expect(store.savedVersions).toEqual([])
  })
})
