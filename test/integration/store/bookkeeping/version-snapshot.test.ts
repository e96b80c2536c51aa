import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../../../lib/config.js'
import type { KubeObject, ResolvedResource } from '../../../../lib/kube/types.js'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { toDocument } from '../../../../lib/store/documents/mapper.js'
import {
  VERSION_SNAPSHOT_COLLECTION,
  stampWrites,
} from '../../../../lib/store/bookkeeping/version-snapshot.js'
import { mongoResourceStore } from '../../../../lib/store/resource-store.js'
import { dropAndDisconnect, freshDb, isFerretDb } from '../helpers.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import { createPacing } from '../../../../lib/store/writes/adaptive-pacing.js'

/*
 * The version-index snapshot behind the store port, on the stack's server. It
 * is only used where the server cannot project the index cheaply (FerretDB);
 * on MongoDB the store reads the collection as before, and these tests check
 * that nothing is kept.
 */

let db: Db
let config: Config
let ferret = false
let n = 0

beforeAll(async () => {
  ;({ db, config } = await freshDb({ CLUSTER_NAME: 'snap' }))
  ferret = await isFerretDb(db)
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

/** A resource (and collection) of its own per test. */
function resource(): ResolvedResource {
  return {
    ref: parseResourceRef(`example.com/v1/widgets${++n}`)!,
    kind: 'Widget',
    namespaced: true,
    apiVersion: 'example.com/v1',
  }
}

const storeOf = (resolved: ResolvedResource) =>
  mongoResourceStore(db, resolved, {
    config,
    secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    guard: unguarded,
    pacing: createPacing(config),
  })

const widget = (uid: string, rv: string): KubeObject => ({
  metadata: { name: uid, namespace: 'default', uid, resourceVersion: rv },
})

describe('version index snapshot (store port)', () => {
  it('loads the saved index back instead of reading the collection, until the next write', async () => {
    const resolved = resource()
    const writer = storeOf(resolved)
    await writer.write([
      { type: 'insert', object: widget('a', '1') },
      { type: 'insert', object: widget('b', '2') },
    ])
    await writer.saveVersions(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    )
    // A document the store did not write: visible only to a load that reads the collection.
    const collection = db.collection(`${resolved.ref.plural}.${resolved.ref.group}`)
    const mapping = {
      cluster: 'snap',
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    }
    await collection.insertOne(toDocument(widget('outsider', '3'), mapping) as never)

    const loaded = await storeOf(resolved).loadVersions()
    if (ferret)
      expect([...loaded].sort()).toEqual([
        ['a', '1'],
        ['b', '2'],
      ])
    else
      expect([...loaded].sort()).toEqual([
        ['a', '1'],
        ['b', '2'],
        ['outsider', '3'],
      ])
  })

  it('sees what any store has written since the snapshot', async () => {
    const resolved = resource()
    const reconcile = storeOf(resolved)
    await reconcile.write([{ type: 'insert', object: widget('a', '1') }])
    await reconcile.saveVersions(new Map([['a', '1']]))
    // Another invocation (a watch) writes: the snapshot no longer says what is stored.
    await storeOf(resolved).write([
      { type: 'replace', object: widget('a', '5'), expectedResourceVersion: '1' },
      { type: 'insert', object: widget('c', '6') },
    ])
    const loaded = await storeOf(resolved).loadVersions()
    expect([...loaded].sort()).toEqual([
      ['a', '5'],
      ['c', '6'],
    ])
  })

  it('saves and loads an index of many parts whole', async () => {
    if (!ferret) return // MongoDB keeps no snapshot (last test)
    const resolved = resource()
    const store = storeOf(resolved)
    await store.write([{ type: 'insert', object: widget('a', '1') }])
    const big = new Map(Array.from({ length: 60_000 }, (_, i) => [`uid-${i}`, String(i + 1)]))
    await store.saveVersions(big)
    const parts = await db
      .collection<{ _id: string }>(VERSION_SNAPSHOT_COLLECTION)
      .countDocuments({ _id: { $regex: `^snap/example.com/v1/${resolved.ref.plural}#[0-9]+$` } })
    expect(parts).toBeGreaterThan(1)
    expect(await storeOf(resolved).loadVersions()).toEqual(big)
  })

  it('does not use a snapshot whose save was cut short or stamped over', async () => {
    const resolved = resource()
    const store = storeOf(resolved)
    await store.write([{ type: 'insert', object: widget('a', '1') }])
    await store.saveVersions(new Map([['stale', '1']]))
    if (ferret) expect([...(await storeOf(resolved).loadVersions())]).toEqual([['stale', '1']])
    // A writer that stamped and then crashed before saving: the old snapshot is void.
    await stampWrites(db, `snap/example.com/v1/${resolved.ref.plural}`)
    expect([...(await storeOf(resolved).loadVersions())]).toEqual([['a', '1']])
  })

  it('deletes the parts and journal entries a new snapshot no longer uses', async () => {
    if (!ferret) return // MongoDB keeps no snapshot
    const resolved = resource()
    const scope = `snap/example.com/v1/${resolved.ref.plural}`
    const snapshotIds = async () =>
      (
        await db
          .collection<{ _id: string }>(VERSION_SNAPSHOT_COLLECTION)
          .find({ _id: { $regex: `^${scope}#` } }, { projection: { _id: 1 } })
          .toArray()
      )
        .map((d) => d._id.slice(scope.length))
        .sort()
    const store = storeOf(resolved)
    await store.write([{ type: 'insert', object: widget('a', '1') }])
    await store.saveVersions(
      new Map(Array.from({ length: 60_000 }, (_, i) => [`uid-${i}`, String(i + 1)])),
    )
    const big = await snapshotIds()
    expect(big.filter((id) => /^#[0-9]+$/.test(id)).length).toBeGreaterThan(1)
    // Two watch writes journaled against it, then a complete pass saves an index of one part.
    const watch = storeOf(resolved)
    await watch.write([{ type: 'insert', object: widget('b', '2') }])
    await watch.write([{ type: 'insert', object: widget('c', '3') }])
    expect(await snapshotIds()).toContain('#journal#1')
    const reconcile = storeOf(resolved)
    const loaded = await reconcile.loadVersions()
    expect(loaded.get('b')).toBe('2')
    await reconcile.saveVersions(
      new Map([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]),
    )

    expect(await snapshotIds()).toEqual(['#0', '#token'])
    expect([...(await storeOf(resolved).loadVersions())].sort()).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ])
  })

  it('reads the collection itself again once the snapshot was last read from it a day ago', async () => {
    const resolved = resource()
    const scope = `snap/example.com/v1/${resolved.ref.plural}`
    const store = storeOf(resolved)
    await store.loadVersions()
    await store.write([
      { type: 'insert', object: widget('a', '1') },
      { type: 'insert', object: widget('b', '2') },
    ])
    await store.saveVersions(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    )
    // Deleted by hand, behind the sync's back: the snapshot still lists it.
    await db
      .collection<{ _id: string }>(`${resolved.ref.plural}.${resolved.ref.group}`)
      .deleteOne({ _id: 'snap/b' })
    if (ferret) expect([...(await storeOf(resolved).loadVersions())].length).toBe(2)
    await db
      .collection<{ _id: string; readAt?: Date }>(VERSION_SNAPSHOT_COLLECTION)
      .updateOne(
        { _id: `${scope}#token` },
        { $set: { readAt: new Date(Date.now() - 25 * 3600_000) } },
      )

    expect([...(await storeOf(resolved).loadVersions())]).toEqual([['a', '1']])
  })

  it('reads the collection when the snapshots were deleted by hand from a resource synced before', async () => {
    const resolved = resource()
    const store = storeOf(resolved)
    await store.loadVersions()
    await store.write([{ type: 'insert', object: widget('a', '1') }])
    await store.saveVersions(new Map([['a', '1']]))
    await store.saveListCheckpoint('1', {})
    await db.collection(VERSION_SNAPSHOT_COLLECTION).deleteMany({})

    expect([...(await storeOf(resolved).loadVersions())]).toEqual([['a', '1']])
  })

  it('keeps a snapshot only where it stands in for a slow index read (FerretDB)', async () => {
    const resolved = resource()
    const store = storeOf(resolved)
    await store.write([{ type: 'insert', object: widget('a', '1') }])
    await store.saveVersions(new Map([['a', '1']]))
    const kept = await db
      .collection<{ _id: string }>(VERSION_SNAPSHOT_COLLECTION)
      .countDocuments({ _id: `snap/example.com/v1/${resolved.ref.plural}#0` })
    expect(kept).toBe(ferret ? 1 : 0)
  })
})
