import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniqueName } from '../../stack/test-helpers.js'
import {
  RESOURCES,
  drain,
  fleetEnv,
  invoke,
  kubeconfigPathOf,
  openDb,
  registryOf,
  seedCluster,
  tail,
  type FleetEnv,
  type MongoHandle,
} from './helpers.js'

/*
 * `{"forget": "c2"}` after three clusters converged: refused while the
 * registry lists c2 (its next plan would sync it all back), then, with c2
 * out of the registry, every document and every bit of state of c2 goes,
 * and c1's and c3's stay exactly as they were.
 */

let fleet: FleetEnv
let mongo: MongoHandle
const namespace = uniqueName('forget')
const BOOKKEEPING = ['sync_state', 'sync_leases']

beforeAll(async () => {
  fleet = await fleetEnv('forget')
  for (const n of [1, 2, 3]) await seedCluster(n, namespace)
  mongo = await openDb(fleet.db)
  const planned = await invoke('reconcile', {}, fleet.env)
  expect(planned.result, tail(planned.output)).toMatchObject({ planned: { tasks: 9 } })
  const drained = await drain(fleet.env, { queue: 'reconcile', concurrency: 3 })
  expect(drained.summary, tail(drained.output)).toMatchObject({ succeeded: 9, failed: 0 })
}, 120_000)

afterAll(async () => {
  await mongo?.db.dropDatabase().catch(() => undefined)
  await mongo?.close()
})

/** Every document of the inventory and bookkeeping collections, by cluster (from its `_id`). */
async function byCluster(): Promise<Map<string, unknown[]>> {
  const all = new Map<string, unknown[]>()
  for (const name of [...RESOURCES.map((r) => r.collection), ...BOOKKEEPING]) {
    const docs = await mongo.db.collection(name).find({}).sort({ _id: 1 }).toArray()
    for (const doc of docs) {
      const cluster = String(doc._id).split('/')[0]!
      all.set(cluster, [...(all.get(cluster) ?? []), { collection: name, ...doc }])
    }
  }
  return all
}

describe('forgetting one cluster of a fleet', () => {
  it('refuses while the cluster is in CLUSTERS, naming it, and deletes nothing', async () => {
    const before = await byCluster()
    expect([...before.keys()].sort()).toEqual(['c1', 'c2', 'c3'])
    const refused = await invoke('reconcile', { forget: 'c2' }, fleet.env)
    expect(refused.code).toBe(1)
    expect(refused.output).toContain('cannot forget cluster "c2": it is still in the registry')
    expect(await byCluster()).toEqual(before)
  })

  it('with c2 out of CLUSTERS, removes exactly its documents and state', async () => {
    const before = await byCluster()
    const withoutC2 = { ...fleet.env, CLUSTERS: JSON.stringify(registryOf([1, 3])) }
    const forgot = await invoke('reconcile', { forget: 'c2' }, withoutC2)
    expect(forgot.code, tail(forgot.output)).toBe(0)
    expect(forgot.result).toMatchObject({ ok: true, cluster: 'c2' })
    const deleted = (forgot.result!.resources as Array<{ resource: string; deleted: number }>)
      .map((r) => `${r.resource} ${r.deleted > 0}`)
      .sort()
    expect(deleted).toEqual(RESOURCES.map((r) => `${r.id} true`).sort())

    const after = await byCluster()
    expect(after.has('c2')).toBe(false)
    expect(after.get('c1')).toEqual(before.get('c1'))
    expect(after.get('c3')).toEqual(before.get('c3'))
    // Nothing of c2 hides under another key: no document names it in its `cluster` field.
    for (const r of RESOURCES)
      expect(await mongo.db.collection(r.collection).countDocuments({ cluster: 'c2' })).toBe(0)
  })

  it('drops a c2 task planned before the forget instead of writing c2 back', async () => {
    const body = {
      v: 1,
      kind: 'reconcile',
      cluster: { name: 'c2', kubeconfigPath: kubeconfigPathOf(2) },
      resource: 'v1/configmaps',
      plannedAt: new Date().toISOString(),
    }
    await new SQSClient({}).send(
      new SendMessageCommand({
        QueueUrl: fleet.queues.reconcile.url,
        MessageBody: JSON.stringify(body),
      }),
    )
    const withoutC2 = { ...fleet.env, CLUSTERS: JSON.stringify(registryOf([1, 3])) }
    const drained = await drain(withoutC2, { queue: 'reconcile' })
    expect(drained.summary, tail(drained.output)).toMatchObject({ succeeded: 1, failed: 0 })
    const dropped = drained.logs.filter((l) => l.event === 'task.dropped')
    expect(dropped.map((l) => l.cluster)).toEqual(['c2'])
    expect((await byCluster()).has('c2')).toBe(false)
  })
})
