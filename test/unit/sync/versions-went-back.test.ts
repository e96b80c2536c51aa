import { afterEach, describe, expect, it, vi } from 'vitest'
import { logger } from '../../../lib/log.js'
import { reconcileResource } from '../../../lib/sync/reconcile-resource.js'
import { versionsWentBack } from '../../../lib/sync/versions-went-back.js'
import { cm, defaultMassDelete, FakeSource, resolvedConfigMaps, type PageScript } from './fakes.js'
import { FakeStore } from './fake-store.js'

describe('versionsWentBack', () => {
  it('sees a list below the saved list checkpoint', () => {
    expect(versionsWentBack({ listResourceVersion: '5000' }, '120')).toEqual({
      listResourceVersion: '120',
      checkpoint: '5000',
      forget: true,
    })
  })

  it('sees a list below the watch checkpoint alone, and names the highest checkpoint', () => {
    expect(
      versionsWentBack({ listResourceVersion: '100', watchResourceVersion: '900' }, '150'),
    ).toEqual({ listResourceVersion: '150', checkpoint: '900', forget: true })
    expect(
      versionsWentBack({ listResourceVersion: '700', watchResourceVersion: '900' }, '150'),
    ).toMatchObject({ checkpoint: '900' })
  })

  it('compares decimal versions as integers, not as text ("999" is below "1000")', () => {
    expect(versionsWentBack({ listResourceVersion: '1000' }, '999')).toMatchObject({
      checkpoint: '1000',
    })
    expect(versionsWentBack({ listResourceVersion: '999' }, '1000')).toBeUndefined()
  })

  it('sees nothing in a list at or above every checkpoint, or with no checkpoint yet', () => {
    expect(
      versionsWentBack({ listResourceVersion: '100', watchResourceVersion: '100' }, '100'),
    ).toBeUndefined()
    expect(
      versionsWentBack({ listResourceVersion: '100', watchResourceVersion: '150' }, '151'),
    ).toBeUndefined()
    expect(versionsWentBack({}, '5')).toBeUndefined()
    expect(versionsWentBack(undefined, '5')).toBeUndefined()
  })

  it('knows no order between opaque versions: equality only, so never "went back"', () => {
    expect(versionsWentBack({ listResourceVersion: 'zz-9' }, 'aa-1')).toBeUndefined()
    expect(versionsWentBack({ listResourceVersion: '5000' }, 'opaque')).toBeUndefined()
    expect(versionsWentBack({ watchResourceVersion: 'opaque' }, '5')).toBeUndefined()
  })

  it('goes on with a reset that a complete list has not finished, even once the list is above it', () => {
    const at = new Date()
    const cutShort = { listResourceVersion: '120', checkpoint: '5000', forgotten: false, at }
    expect(
      versionsWentBack({ listResourceVersion: '5000', versionReset: cutShort }, '6000'),
    ).toEqual({ listResourceVersion: '6000', checkpoint: '5000', forget: true })
  })

  it('does not forget again what a reset under way forgot, unless the list went back once more', () => {
    const versionReset = {
      listResourceVersion: '120',
      checkpoint: '5000',
      forgotten: true,
      at: new Date(),
    }
    const state = { listResourceVersion: '5000', versionReset }
    expect(versionsWentBack(state, '300')).toEqual({
      listResourceVersion: '300',
      checkpoint: '5000',
      forget: false,
    })
    expect(versionsWentBack(state, '6000')).toMatchObject({ forget: false })
    // A second restore, to before the first one's list: what was rewritten since is of a lost timeline too.
    expect(versionsWentBack(state, '100')).toMatchObject({ forget: true })
  })
})

/** A reconcile pass under the lease (reconcile-run.ts), with the default mass-delete guard. */
async function reconcile(
  store: FakeStore,
  pages: PageScript,
  extra: { dryRun?: boolean; namespaces?: string[] } = {},
) {
  if (!extra.dryRun) await store.acquireLease('test', 60_000)
  return reconcileResource({
    resolved: resolvedConfigMaps,
    source: new FakeSource(pages),
    store,
    signal: new AbortController().signal,
    remainingMs: () => 600_000,
    massDelete: defaultMassDelete,
    ...extra,
  })
}

/** An inventory written before an etcd restore: every version, and the checkpoints, from a timeline the cluster lost. */
function restoredStore(): FakeStore {
  const store = new FakeStore()
  store.docs = new Map([
    ['a', '1000100'],
    ['b', '1000200'],
    ['gone', '1000300'],
  ])
  store.state = { listResourceVersion: '1000400', watchResourceVersion: '1000450' }
  // The lost timeline deleted "back" after the backup; the restore brought it back.
  store.tombstones.add('back')
  store.tombstoneVersions.set('back', '1000350')
  return store
}

const restoredList: PageScript = [
  {
    items: [cm('a', '100'), cm('b', '210'), cm('back', '150'), cm('c', '300')],
    listResourceVersion: '400',
  },
]

describe('reconcileResource after the resourceVersions went back (an etcd restore)', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('rewrites the resource from the list in full: the live uids at the live versions, and the checkpoints reset', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const store = restoredStore()
    const report = await reconcile(store, restoredList)
    expect(report).toMatchObject({
      status: 'complete',
      resourceVersionsReset: true,
      listed: 4,
      inserted: 2,
      updated: 2,
      deleted: 1,
      unchanged: 0,
      listResourceVersion: '400',
    })
    expect(Object.fromEntries(store.docs)).toEqual({ a: '100', b: '210', back: '150', c: '300' })
    expect(store.state).toMatchObject({
      listResourceVersion: '400',
      watchResourceVersion: '400',
      versionReset: null,
    })
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('below the checkpoint 1000450'),
      expect.objectContaining({
        event: 'reconcile.versions-went-back',
        listResourceVersion: '400',
        checkpoint: '1000450',
        stored: 3,
      }),
    )
  })

  it('writes nothing on the reconcile after the rewrite', async () => {
    const store = restoredStore()
    await reconcile(store, restoredList)
    const writesBefore = store.writes.length
    const again = await reconcile(store, restoredList)
    expect(again).toMatchObject({
      status: 'complete',
      resourceVersionsReset: false,
      inserted: 0,
      updated: 0,
      deleted: 0,
      unchanged: 4,
    })
    expect(store.writes.length).toBe(writesBefore)
  })

  it('finishes a reset an earlier pass began, even once the cluster has passed the old checkpoint', async () => {
    const store = new FakeStore()
    // The earlier pass stopped after forgetting "a" only: "b" still has its version from the lost timeline.
    store.docs = new Map([
      ['a', '0'],
      ['b', '1000600'],
    ])
    const at = new Date()
    const versionReset = { listResourceVersion: '400', checkpoint: '1000450', forgotten: false, at }
    store.state = { listResourceVersion: '1000400', versionReset }
    const report = await reconcile(store, [
      { items: [cm('a', '1000460'), cm('b', '1000470')], listResourceVersion: '1000500' },
    ])
    expect(report).toMatchObject({ status: 'complete', resourceVersionsReset: true, updated: 2 })
    expect(Object.fromEntries(store.docs)).toEqual({ a: '1000460', b: '1000470' })
    expect(store.state.versionReset).toBeNull()
  })

  it('goes on rewriting after a pass cut short, keeping what that pass rewrote', async () => {
    const store = new FakeStore()
    // Every version was forgotten; the deadline stopped the rewrite after "a".
    store.docs = new Map([
      ['a', '110'],
      ['b', '0'],
    ])
    const versionReset = {
      listResourceVersion: '400',
      checkpoint: '1000450',
      forgotten: true,
      at: new Date(),
    }
    store.state = { listResourceVersion: '1000400', watchResourceVersion: '1000450', versionReset }
    const report = await reconcile(store, [
      { items: [cm('a', '110'), cm('b', '120')], listResourceVersion: '500' },
    ])
    expect(report).toMatchObject({
      status: 'complete',
      resourceVersionsReset: true,
      updated: 1,
      unchanged: 1,
    })
    expect(store.writes.flat().map((op) => op.type !== 'delete' && op.object.metadata.uid)).toEqual(
      ['b'],
    )
    expect(Object.fromEntries(store.docs)).toEqual({ a: '110', b: '120' })
    expect(store.state).toMatchObject({ listResourceVersion: '500', versionReset: null })
  })

  it('plans the rewrite on a dry run and changes nothing', async () => {
    const store = restoredStore()
    const report = await reconcile(store, restoredList, { dryRun: true })
    expect(report).toMatchObject({
      resourceVersionsReset: true,
      inserted: 2,
      updated: 2,
      deleted: 1,
    })
    expect(Object.fromEntries(store.docs)).toEqual({ a: '1000100', b: '1000200', gone: '1000300' })
    expect(store.state.versionReset).toBeUndefined()
    expect(store.tombstones.has('back')).toBe(true)
  })

  it('rewrites only the namespaces listed, and leaves the mark for the next complete list', async () => {
    const store = new FakeStore()
    store.docs = new Map([
      ['a', '1000100'],
      ['x', '1000100'],
    ])
    store.namespaceOf = new Map([
      ['a', 'ns'],
      ['x', 'other'],
    ])
    store.state = { listResourceVersion: '1000400' }
    const report = await reconcile(
      store,
      [{ items: [cm('a', '100', 'ns')], listResourceVersion: '400' }],
      { namespaces: ['ns'] },
    )
    expect(report).toMatchObject({ status: 'complete', resourceVersionsReset: true, updated: 1 })
    expect(Object.fromEntries(store.docs)).toEqual({ a: '100', x: '1000100' })
    expect(store.checkpoints).toEqual([])
    expect(store.state.versionReset).toMatchObject({ checkpoint: '1000400', forgotten: false })
  })
})
