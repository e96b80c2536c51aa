import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { AnyBulkWriteOperation, CommandStartedEvent, Db } from 'mongodb'
import pLimit from 'p-limit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { logger } from '../../../lib/log.js'
import { parseResourceRef, stateIdOf } from '../../../lib/resource-ref.js'
import type { InventoryDocument } from '../../../lib/store/documents/mapper.js'
import type { SyncState } from '../../../lib/store/bookkeeping/sync-state.js'
import type { Tombstone } from '../../../lib/store/bookkeeping/tombstones.js'
import { kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { converged, divergence, harness, type Harness } from './harness.js'

/*
 * An etcd restore, simulated from the inventory's side: the stored documents
 * and checkpoints come from a timeline a million revisions ahead of the
 * cluster, as after restoring an older etcd snapshot. One reconcile must bring
 * the inventory back to exactly what the cluster serves.
 *
 * LimitRanges: a kind no other test creates, so the whole-cluster list (the
 * one that saves checkpoints) holds this test's objects only, and its time
 * does not grow with what other tests leave in the shared cluster.
 */

const INFLATION = 1_000_000n
const RESOURCE = 'v1/limitranges'
const COLLECTION = 'limitranges'
const limitRanges = parseResourceRef(RESOURCE)!
const inflate = (rv: string) => String(BigInt(rv) + INFLATION)

const limitRange = (name: string, i: number) => ({
  metadata: { name },
  spec: { limits: [{ type: 'Container', _default: { cpu: `${100 + i}m` } }] },
})

async function namespaceWith(kc: KubeConfig, count: number): Promise<string> {
  const ns = uniqueName('vwb')
  const core = kc.makeApiClient(CoreV1Api)
  await core.createNamespace({ body: { metadata: { name: ns } } })
  const limit = pLimit(16)
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() =>
        core.createNamespacedLimitRange({ namespace: ns, body: limitRange(`lr-${i}`, i) }),
      ),
    ),
  )
  return ns
}

/** Every stored version and both checkpoints a million revisions ahead; FerretDB's index snapshot gone with the old timeline. */
async function inflateInventory(db: Db): Promise<void> {
  const docs = db.collection<InventoryDocument>(COLLECTION)
  const ops: AnyBulkWriteOperation<InventoryDocument>[] = []
  for await (const d of docs.find({ cluster: 'test' }, { projection: { resourceVersion: 1 } }))
    ops.push({
      updateOne: {
        filter: { _id: d._id },
        update: { $set: { resourceVersion: inflate(d.resourceVersion) } },
      },
    })
  // Slices of 20: FerretDB 1.x holds a connection per statement of an update (apply-chunk.ts).
  for (let i = 0; i < ops.length; i += 20) await docs.bulkWrite(ops.slice(i, i + 20))
  const states = db.collection<SyncState>('sync_state')
  const state = (await states.findOne({ _id: stateIdOf('test', limitRanges) }))!
  await states.updateOne(
    { _id: state._id },
    {
      $set: {
        listResourceVersion: inflate(state.listResourceVersion!),
        watchResourceVersion: inflate(state.watchResourceVersion!),
      },
    },
  )
  await db.collection('sync_version_snapshots').deleteMany({})
}

/** uid -> resourceVersion of every LimitRange the cluster serves, and of every one stored. */
async function liveAndStored(kc: KubeConfig, db: Db) {
  const live = new Map<string, string>()
  const list = await kc.makeApiClient(CoreV1Api).listLimitRangeForAllNamespaces()
  for (const lr of list.items) live.set(lr.metadata!.uid!, lr.metadata!.resourceVersion!)
  const stored = new Map<string, string>()
  const docs = db.collection<InventoryDocument>(COLLECTION).find({ cluster: 'test' })
  for await (const d of docs) stored.set(d.uid, d.resourceVersion)
  return { live, stored }
}

describe("reconcile after the cluster's resourceVersions went back (an etcd restore)", () => {
  const kc = kubeConfigFrom()
  let ns: string
  let h: Harness

  beforeAll(async () => {
    ns = await namespaceWith(kc, 120)
    h = await harness({ SYNC_RESOURCES: RESOURCE })
  }, 300_000)
  afterAll(async () => {
    await h?.close()
    // Namespaces never finish deleting without controllers: remove what the next run would list.
    if (ns)
      await kc.makeApiClient(CoreV1Api).deleteCollectionNamespacedLimitRange({ namespace: ns })
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('converges exactly in one run from an inventory whose versions are all a million ahead, then writes nothing', async () => {
    const first = await h.reconcile({ resources: [RESOURCE] })
    expect(first.resources[0]).toMatchObject({ status: 'complete', resourceVersionsReset: false })
    await inflateInventory(h.db)
    const docs = h.db.collection<InventoryDocument>(COLLECTION)
    // The lost timeline deleted lr-0 (a tombstone above every live version); the restore brought it back.
    const back = (await docs.findOne({ cluster: 'test', namespace: ns, name: 'lr-0' }))!
    await docs.deleteOne({ _id: back._id })
    await h.db.collection<Tombstone>('sync_tombstones').insertOne({
      _id: back._id,
      cluster: 'test',
      resource: RESOURCE,
      uid: back.uid,
      resourceVersion: back.resourceVersion,
      deletedAt: new Date(),
    })
    // And it created an object the restored cluster never had.
    const ghost = (await docs.findOne({ cluster: 'test', namespace: ns, name: 'lr-1' }))!
    await docs.insertOne({ ...ghost, _id: 'test/ghost-uid', uid: 'ghost-uid', name: 'ghost' })
    const checkpoint = (await h.db
      .collection<SyncState>('sync_state')
      .findOne({ _id: stateIdOf('test', limitRanges) }))!.listResourceVersion!
    const warn = vi.spyOn(logger, 'warn')

    const out = await h.reconcile({ resources: [RESOURCE] })

    // Exactly the live objects at the live versions: same uids, same resourceVersions.
    expect(await divergence(kc, h.db, RESOURCE, 'LimitRange', [ns])).toMatchObject(converged)
    const { live, stored } = await liveAndStored(kc, h.db)
    expect(stored).toEqual(live)
    const report = out.resources[0]!
    expect(report).toMatchObject({
      status: 'complete',
      resourceVersionsReset: true,
      inserted: 1,
      deleted: 1,
      unchanged: 0,
    })
    expect(report.updated).toBe(report.listed - 1)
    const state = await h.db
      .collection<SyncState>('sync_state')
      .findOne({ _id: stateIdOf('test', limitRanges) })
    expect(state).toMatchObject({
      listResourceVersion: report.listResourceVersion,
      watchResourceVersion: report.listResourceVersion,
      versionReset: null,
    })
    expect(BigInt(report.listResourceVersion!)).toBeLessThan(BigInt(checkpoint))
    expect(
      await h.db.collection<Tombstone>('sync_tombstones').countDocuments({ _id: back._id }),
    ).toBe(0)
    expect(warn).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({
        event: 'reconcile.versions-went-back',
        checkpoint: inflate(first.resources[0]!.listResourceVersion!),
      }),
    )

    // The next reconcile finds everything as stored: no object collection sees a write.
    const writes: string[] = []
    const onCommand = (e: CommandStartedEvent) => {
      if (!['insert', 'update', 'delete'].includes(e.commandName)) return
      if (e.databaseName !== h.db.databaseName) return
      const target = String((e.command as Record<string, unknown>)[e.commandName])
      if (!['sync_state', 'sync_leases'].includes(target)) writes.push(`${e.commandName} ${target}`)
    }
    h.mongo.on('commandStarted', onCommand)
    try {
      const again = await h.reconcile({ resources: [RESOURCE] })
      expect(again.resources[0]).toMatchObject({
        status: 'complete',
        resourceVersionsReset: false,
        inserted: 0,
        updated: 0,
        deleted: 0,
      })
    } finally {
      h.mongo.off('commandStarted', onCommand)
    }
    expect(writes).toEqual([])
  })
})
