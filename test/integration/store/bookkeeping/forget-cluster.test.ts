import { EJSON } from 'bson'
import type { Db } from 'mongodb'
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../../../../lib/config.js'
import type { KubeObject, ResolvedResource } from '../../../../lib/kube/types.js'
import { parseResourceRef, stateIdOf } from '../../../../lib/resource-ref.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import { forgetCluster } from '../../../../lib/store/bookkeeping/forget-cluster.js'
import { acquireLease } from '../../../../lib/store/bookkeeping/lease.js'
import { VERSION_SNAPSHOT_COLLECTION } from '../../../../lib/store/bookkeeping/version-snapshot.js'
import { serverProfileOf } from '../../../../lib/store/connection/server-profile.js'
import { mongoResourceStore } from '../../../../lib/store/resource-store.js'
import { createPacing } from '../../../../lib/store/writes/adaptive-pacing.js'
import { dropAndDisconnect, freshDb, isFerretDb, withCapturedLogs } from '../helpers.js'

/*
 * forgetCluster on the stack's server: three clusters whose names are
 * prefixes of each other (`prod`, `prod-eu`, `prod0`) share every collection,
 * with the same uids, each seeded by the real store code (inventory, version
 * snapshot and journal, tombstones, dead letters, checkpoints, lease claims).
 * Forgetting `prod` must leave no document of it and every other document
 * byte for byte as it was.
 */

const CLUSTERS = ['prod', 'prod-eu', 'prod0'] as const
const RESOURCES: ResolvedResource[] = [
  {
    ref: parseResourceRef('v1/configmaps')!,
    kind: 'ConfigMap',
    namespaced: true,
    apiVersion: 'v1',
  },
  {
    ref: parseResourceRef('example.com/v1/widgets')!,
    kind: 'Widget',
    namespaced: true,
    apiVersion: 'example.com/v1',
  },
]
const secrets = { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] }

let db: Db | undefined

afterEach(async () => {
  await dropAndDisconnect(db)
  db = undefined
})

const object = (uid: string, rv: string): KubeObject => ({
  metadata: { name: `obj-${uid}`, namespace: 'default', uid, resourceVersion: rv },
  data: { 'app.conf': `rv ${rv}` },
})

/**
 * One cluster's life in one resource, through the store port: 5 inserts, a
 * snapshot, then (journaled) a delete (a tombstone) and an insert, a refused
 * object (a dead letter), both checkpoints, a lease taken and released.
 */
async function seed(handle: Db, config: Config, cluster: string, resolved: ResolvedResource) {
  const store = mongoResourceStore(handle, resolved, {
    config: { ...config, clusterName: cluster },
    secrets,
    guard: unguarded,
    pacing: createPacing(config),
  })
  await store.ensureIndexes()
  expect((await store.acquireLease(`seed/${cluster}`, 60_000)).acquired).toBe(true)
  // uids are unique within a cluster, across resources; the clusters share them, to tempt a prefix match.
  const uid = (i: number) => `${resolved.ref.plural}-${i}`
  const uids = [0, 1, 2, 3, 4].map(uid)
  await store.write(uids.map((u, i) => ({ type: 'insert', object: object(u, `${10 + i}`) })))
  await store.saveVersions(new Map(uids.map((u, i) => [u, `${10 + i}`])))
  await store.write([{ type: 'delete', uid: uid(0), deletedAtResourceVersion: '20' }])
  await store.write([{ type: 'insert', object: object(uid(5), '21') }])
  await store.recordRefused(
    [{ key: `${resolved.ref.plural}-bad`, reason: 'metadata.name missing' }],
    'reconcile',
  )
  await store.saveListCheckpoint('21', { listed: 5 })
  await store.saveWatchCheckpoint('22', { events: 1 })
  await store.releaseLease(`seed/${cluster}`)
}

async function seedFleet(): Promise<{ handle: Db; config: Config }> {
  const { db: handle, config } = await freshDb()
  db = handle
  await withCapturedLogs(async () => {
    for (const cluster of CLUSTERS)
      for (const resolved of RESOURCES) await seed(handle, config, cluster, resolved)
  })
  return { handle, config }
}

const ofCluster = (cluster: string, doc: Record<string, unknown>) =>
  (typeof doc._id === 'string' && doc._id.startsWith(`${cluster}/`)) || doc.cluster === cluster

/** Every document of the database, `<collection> <canonical EJSON>`, split into `cluster`'s and the rest, in a fixed order. */
async function contents(handle: Db, cluster: string) {
  const mine: string[] = []
  const rest: string[] = []
  const names = (await handle.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)
  for (const name of names.sort())
    for (const doc of await handle.collection(name).find({}).toArray()) {
      const line = `${name} ${EJSON.stringify(doc, { relaxed: false })}`
      ;(ofCluster(cluster, doc) ? mine : rest).push(line)
    }
  return { mine: mine.sort(), rest: rest.sort() }
}

const collectionsOf = (lines: readonly string[]) =>
  [...new Set(lines.map((l) => l.split(' ')[0]))].sort()

describe('forgetCluster', () => {
  it('deletes every document of one cluster among three sharing the collections, and nothing else', async () => {
    const { handle } = await seedFleet()
    const ferret = await isFerretDb(handle)
    const before = await contents(handle, 'prod')
    expect(collectionsOf(before.mine)).toEqual(
      [
        'configmaps',
        'sync_dead_letters',
        'sync_leases',
        'sync_state',
        'sync_tombstones',
        'widgets.example.com',
        ...(ferret ? [VERSION_SNAPSHOT_COLLECTION] : []),
      ].sort(),
    )
    const { result, events } = await withCapturedLogs(() =>
      forgetCluster(handle, 'prod', { profile: { readByIdOnly: ferret } }),
    )
    const after = await contents(handle, 'prod')
    expect(after.mine).toEqual([])
    expect(after.rest).toEqual(before.rest)
    expect(result).toMatchObject({
      cluster: 'prod',
      resources: [
        { resource: 'example.com/v1/widgets', collection: 'widgets.example.com', deleted: 5 },
        { resource: 'v1/configmaps', collection: 'configmaps', deleted: 5 },
      ],
      bookkeeping: { syncStates: 2, leases: 2, tombstones: 2, deadLetters: 2 },
    })
    expect(result.resources.every((r) => r.source === (ferret ? 'snapshot' : 'filter'))).toBe(true)
    const removed = before.mine.length
    const counted =
      result.resources.reduce((sum, r) => sum + r.deleted, 0) +
      Object.values(result.bookkeeping).reduce((sum, n) => sum + n, 0)
    expect(counted).toBe(removed)
    expect(events.filter((e) => e.event === 'forget.progress').map((e) => e.resource)).toEqual([
      'example.com/v1/widgets',
      'v1/configmaps',
    ])
    expect(events.find((e) => e.event === 'forget.done')).toMatchObject({
      cluster: 'prod',
      deleted: 10,
    })
  })

  it('deletes the same through the `{cluster}` filters MongoDB answers from its indexes', async () => {
    const { handle } = await seedFleet()
    const before = await contents(handle, 'prod-eu')
    const result = await withCapturedLogs(() =>
      forgetCluster(handle, 'prod-eu', { profile: { readByIdOnly: false } }),
    )
    const after = await contents(handle, 'prod-eu')
    expect(after.mine).toEqual([])
    expect(after.rest).toEqual(before.rest)
    expect(result.result.resources.map((r) => [r.source, r.deleted])).toEqual([
      ['filter', 5],
      ['filter', 5],
    ])
  })

  it('is idempotent: a second run finds nothing to delete and changes nothing', async () => {
    const { handle } = await seedFleet()
    const profile = await serverProfileOf(handle)
    await withCapturedLogs(() => forgetCluster(handle, 'prod0', { profile }))
    const once = await contents(handle, 'prod0')
    const { result } = await withCapturedLogs(() => forgetCluster(handle, 'prod0', { profile }))
    expect(result.resources).toEqual([])
    expect(Object.values(result.bookkeeping).every((n) => n === 0)).toBe(true)
    expect(await contents(handle, 'prod0')).toEqual(once)
    expect(once.mine).toEqual([])
  })

  it('finishes the job when run again after a run cut short half-way', async () => {
    const { handle } = await seedFleet()
    const profile = await serverProfileOf(handle)
    const before = await contents(handle, 'prod')
    // The process "dies" right after the first resource is done.
    const dying = {
      info: () => {
        throw new Error('killed')
      },
    }
    await expect(forgetCluster(handle, 'prod', { profile, log: dying })).rejects.toThrow('killed')
    const half = await contents(handle, 'prod')
    expect(half.mine.length).toBeGreaterThan(0)
    expect(half.mine.length).toBeLessThan(before.mine.length)
    expect(half.mine.some((line) => line.startsWith('configmaps '))).toBe(true)
    expect(half.mine.some((line) => line.startsWith('widgets.example.com '))).toBe(false)

    const { result } = await withCapturedLogs(() => forgetCluster(handle, 'prod', { profile }))
    expect(result.resources).toEqual([
      expect.objectContaining({ resource: 'v1/configmaps', deleted: 5 }),
    ])
    const after = await contents(handle, 'prod')
    expect(after.mine).toEqual([])
    expect(after.rest).toEqual(before.rest)
  })

  it('reads the collection once for a resource whose snapshot is gone, and still deletes only that cluster', async () => {
    const { handle } = await seedFleet()
    const profile = await serverProfileOf(handle)
    const before = await contents(handle, 'prod')
    const stateId = stateIdOf('prod', RESOURCES[0]!.ref)
    await handle
      .collection<{ _id: string }>(VERSION_SNAPSHOT_COLLECTION)
      .deleteOne({ _id: `${stateId}#token` })
    const { result } = await withCapturedLogs(() =>
      forgetCluster(handle, 'prod', { profile: { readByIdOnly: true } }),
    )
    expect(result.resources.find((r) => r.resource === 'v1/configmaps')).toMatchObject({
      source: 'collection-scan',
      deleted: 5,
    })
    const after = await contents(handle, 'prod')
    expect(after.mine).toEqual([])
    expect(after.rest).toEqual(before.rest)
    expect(profile.server).toBeTruthy()
  })

  it('refuses, deleting no document, while a sync holds a lease of the cluster', async () => {
    const { handle } = await seedFleet()
    const profile = await serverProfileOf(handle)
    const stateId = stateIdOf('prod', RESOURCES[0]!.ref)
    expect(
      (await acquireLease(handle, stateId, 'reconcile/req-1#v1/configmaps', 60_000)).acquired,
    ).toBe(true)
    const before = await contents(handle, 'prod')
    const inventory = (lines: readonly string[]) =>
      lines.filter((l) => l.startsWith('configmaps ') || l.startsWith('widgets.example.com '))
    await expect(
      withCapturedLogs(() => forgetCluster(handle, 'prod', { profile })),
    ).rejects.toThrow(/lease of v1\/configmaps is held by reconcile\/req-1#v1\/configmaps until/)
    const after = await contents(handle, 'prod')
    expect(inventory(after.mine)).toEqual(inventory(before.mine))
    expect(after.rest).toEqual(before.rest)
  })

  it('refuses a name that is not a cluster name, which could match other clusters', async () => {
    const { handle } = await seedFleet()
    const profile = await serverProfileOf(handle)
    for (const name of ['', 'prod/', 'pr*'])
      await expect(forgetCluster(handle, name, { profile })).rejects.toThrow(/not a cluster name/)
  })
})
