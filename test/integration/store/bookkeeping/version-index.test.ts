import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent, type Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../../../lib/config.js'
import type { KubeObject, ResolvedResource } from '../../../../lib/kube/types.js'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { serverProfileOf } from '../../../../lib/store/connection/server-profile.js'
import { toDocument } from '../../../../lib/store/documents/mapper.js'
import { mongoResourceStore } from '../../../../lib/store/resource-store.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import { createPacing } from '../../../../lib/store/writes/adaptive-pacing.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

/*
 * What loading a version index reads from the inventory collection, seen by
 * the driver's command monitoring: a namespace's index, or a new cluster's,
 * costs its own documents, whatever else the collection holds
 * (docs/design.md#indexes). On MongoDB the query is an index range; on
 * FerretDB, which scans the collection for any filter but a bare `_id`, the
 * only reads of the collection are `{_id}` look-ups of what was written since
 * the snapshot.
 */

let db: Db
let config: Config
let client: MongoClient
/** The monitored client's handle on the same database. */
let watched: Db
let n = 0

beforeAll(async () => {
  ;({ db, config } = await freshDb({ CLUSTER_NAME: 'mine' }))
  client = await new MongoClient(config.mongodb.uri!, { monitorCommands: true }).connect()
  watched = client.db(db.databaseName)
})
afterAll(async () => {
  await client?.close()
  await dropAndDisconnect(db)
})

function resource(): ResolvedResource {
  return {
    ref: parseResourceRef(`example.com/v1/gadgets${++n}`)!,
    kind: 'Gadget',
    namespaced: true,
    apiVersion: 'example.com/v1',
  }
}

const collectionOf = (resolved: ResolvedResource) => `${resolved.ref.plural}.${resolved.ref.group}`

const storeOf = (resolved: ResolvedResource, on: Db = db, cluster = 'mine') =>
  mongoResourceStore(on, resolved, {
    config: { ...config, clusterName: cluster },
    secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    guard: unguarded,
    pacing: createPacing(config),
  })

const gadget = (uid: string, namespace: string, rv: string): KubeObject => ({
  metadata: { name: uid, namespace, uid, resourceVersion: rv },
})

/** `count` documents of another cluster, written straight into the collection. */
async function otherClusters(resolved: ResolvedResource, count: number): Promise<void> {
  const mapping = {
    cluster: 'theirs',
    apiVersion: 'example.com/v1',
    kind: 'Gadget',
    secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
  }
  const docs = Array.from({ length: count }, (_, i) =>
    toDocument(gadget(`their-${i}`, 'x', String(i + 1)), mapping),
  )
  await db.collection(collectionOf(resolved)).insertMany(docs as never[])
}

/** The finds (and getMores) `fn` sent to the inventory collection, and how many documents they returned. */
async function readsOf<T>(
  resolved: ResolvedResource,
  fn: () => Promise<T>,
): Promise<{ result: T; filters: unknown[]; returned: number }> {
  const name = collectionOf(resolved)
  const ours = new Set<number>()
  const filters: unknown[] = []
  let returned = 0
  const started = (e: CommandStartedEvent) => {
    if (e.commandName === 'find' && e.command.find === name) {
      ours.add(e.requestId)
      filters.push(e.command.filter)
    }
    if (e.commandName === 'getMore' && e.command.collection === name) ours.add(e.requestId)
  }
  const succeeded = (e: CommandSucceededEvent) => {
    if (!ours.has(e.requestId)) return
    const cursor = (e.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } })
      .cursor
    returned += (cursor?.firstBatch ?? cursor?.nextBatch ?? []).length
  }
  client.on('commandStarted', started)
  client.on('commandSucceeded', succeeded)
  try {
    const result = await fn()
    return { result, filters, returned }
  } finally {
    client.off('commandStarted', started)
    client.off('commandSucceeded', succeeded)
  }
}

const isBareId = (filter: unknown) =>
  typeof filter === 'object' &&
  filter !== null &&
  Object.keys(filter).length === 1 &&
  typeof (filter as { _id?: unknown })._id === 'string'

describe('version index cost', () => {
  it("reads only the namespace's documents for a namespaced load, beside another cluster's", async () => {
    const resolved = resource()
    const reconcile = storeOf(resolved)
    const objects = [
      ...Array.from({ length: 20 }, (_, i) => gadget(`x-${i}`, 'x', '1')),
      ...Array.from({ length: 30 }, (_, i) => gadget(`y-${i}`, 'y', '1')),
    ]
    await reconcile.loadVersions()
    await reconcile.write(objects.map((object) => ({ type: 'insert', object })))
    await reconcile.saveVersions(new Map(objects.map((o) => [o.metadata.uid, '1'])))
    await otherClusters(resolved, 200)
    // A watch writes after the snapshot: one update in x, one in y.
    await storeOf(resolved).write([
      { type: 'replace', object: gadget('x-3', 'x', '7'), expectedResourceVersion: '1' },
      { type: 'replace', object: gadget('y-3', 'y', '8'), expectedResourceVersion: '1' },
    ])

    const { result, filters, returned } = await readsOf(resolved, () =>
      storeOf(resolved, watched).loadVersions(['x']),
    )

    expect(result.size).toBe(20)
    expect(result.get('x-3')).toBe('7')
    expect([...result.keys()].every((uid) => uid.startsWith('x-'))).toBe(true)
    if ((await serverProfileOf(db)).readByIdOnly) {
      // Only the two uids the journal names are read, each by `_id`.
      expect(filters.every(isBareId)).toBe(true)
      expect(returned).toBe(2)
    } else {
      expect(filters).toEqual([{ cluster: 'mine', namespace: { $in: ['x'] } }])
      expect(returned).toBe(20)
      const plan = await db
        .collection(collectionOf(resolved))
        .find({ cluster: 'mine', namespace: { $in: ['x'] } })
        .explain('executionStats')
      expect(plan.executionStats.totalDocsExamined).toBe(20)
    }
  })

  it("reads none of the other clusters' documents for a cluster that has none yet", async () => {
    const resolved = resource()
    await otherClusters(resolved, 200)

    const { result, filters, returned } = await readsOf(resolved, () =>
      storeOf(resolved, watched, 'new').loadVersions(),
    )

    expect(result.size).toBe(0)
    expect(returned).toBe(0)
    // FerretDB: no query at all (the sync never wrote this cluster's resource); MongoDB: an index range.
    if ((await serverProfileOf(db)).readByIdOnly) expect(filters).toEqual([])
    else expect(filters).toEqual([{ cluster: 'new' }])
  })

  it("reads none of the other clusters' documents for a new cluster once it holds the lease", async () => {
    const resolved = resource()
    await otherClusters(resolved, 200)
    // A reconcile takes the lease first, which creates the resource's sync_state (its lease only).
    const store = storeOf(resolved, watched, 'new')
    expect(await store.acquireLease('first-run', 60_000)).toEqual({ acquired: true })

    const { result, filters, returned } = await readsOf(resolved, () => store.loadVersions())

    expect(result.size).toBe(0)
    expect(returned).toBe(0)
    if ((await serverProfileOf(db)).readByIdOnly) expect(filters).toEqual([])
    else expect(filters).toEqual([{ cluster: 'new' }])
  })

  it('reads the collection once for a resource whose snapshots were deleted after a checkpoint', async () => {
    const resolved = resource()
    const first = storeOf(resolved, watched, 'dropped')
    await first.acquireLease('first-run', 60_000)
    await first.loadVersions()
    await first.write([{ type: 'upsert', object: gadget('kept', 'x', '7') }])
    await first.saveListCheckpoint('7', {})
    await first.releaseLease('first-run')
    await db
      .collection('sync_version_snapshots')
      .deleteMany({ _id: { $regex: '^dropped/' } } as never)

    const again = storeOf(resolved, watched, 'dropped')
    await again.acquireLease('second-run', 60_000)
    const { result } = await readsOf(resolved, () => again.loadVersions())

    expect([...result]).toEqual([['kept', '7']])
  })
})
