import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { CoreV1Api } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniqueName } from '../../stack/test-helpers.js'
import {
  RESOURCES,
  apiObjects,
  drain,
  fleetEnv,
  invoke,
  kubeconfigPathOf,
  kubeOf,
  openDb,
  seedCluster,
  storedObjects,
  tail,
  type DrainRun,
  type FleetEnv,
  type MongoHandle,
} from './helpers.js'

/*
 * SQS delivers at least once: the same reconcile task may run twice, even at
 * once. The lease and the compare-and-swap writes make the second change
 * nothing: proved by the runs' own write counts and by the documents (their
 * resourceVersions and their syncedAt, which every write sets).
 */

let fleet: FleetEnv
let mongo: MongoHandle
const namespace = uniqueName('dup')

beforeAll(async () => {
  fleet = await fleetEnv('dup')
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

/** c1's v1/configmaps task, as the planner writes it. */
const task = () => ({
  v: 1,
  kind: 'reconcile',
  cluster: {
    name: 'c1',
    kubeconfigPath: kubeconfigPathOf(1),
    resources: RESOURCES.map((r) => r.id),
  },
  resource: 'v1/configmaps',
  plannedAt: new Date().toISOString(),
})

/** The same message body sent twice: two deliveries of one task. */
async function deliverTwice(): Promise<DrainRun> {
  const body = JSON.stringify(task())
  const sqs = new SQSClient({})
  for (let i = 0; i < 2; i++)
    await sqs.send(
      new SendMessageCommand({ QueueUrl: fleet.queues.reconcile.url, MessageBody: body }),
    )
  // Two pollers: both deliveries are received, and run, at once.
  const drained = await drain(fleet.env, { queue: 'reconcile', concurrency: 2 })
  expect(drained.code, tail(drained.output)).toBe(0)
  expect(drained.summary).toMatchObject({ drained: true, succeeded: 2, failed: 0, deleted: 2 })
  return drained
}

interface Report {
  cluster: string
  resource: string
  status: string
  inserted: number
  updated: number
  deleted: number
}

/** Whether the two deliveries ran at once: each started before the other was done. */
function overlapped(run: DrainRun): boolean {
  const at = (event: string) =>
    new Map(
      run.logs
        .filter((l) => l.event === event)
        .map((l) => [String(l.messageId), Date.parse(String(l.timestamp))]),
    )
  const started = at('task.started')
  const done = at('task.done')
  const [a, b] = [...started.keys()]
  expect(started.size).toBe(2)
  return started.get(a!)! <= done.get(b!)! && started.get(b!)! <= done.get(a!)!
}

/** The reports of the two runs, and how many documents they wrote between them. */
function writesOf(run: DrainRun): { statuses: string[]; writes: number } {
  const reports = run.logs
    .filter((l) => l.event === 'reconcile.summary')
    .flatMap((l) => l.resources as Report[])
  expect(reports.map((r) => `${r.cluster} ${r.resource}`)).toEqual([
    'c1 v1/configmaps',
    'c1 v1/configmaps',
  ])
  const statuses = reports.map((r) => r.status).sort()
  // At once, the second finds the lease held and skips; one after the other, it finds nothing to write.
  if (overlapped(run)) expect(statuses).toEqual(['complete', 'skipped'])
  return {
    statuses,
    writes: reports.reduce((sum, r) => sum + r.inserted + r.updated + r.deleted, 0),
  }
}

/** Every c1 ConfigMap document in full: resourceVersion, object and syncedAt. */
const c1ConfigMaps = () =>
  mongo.db.collection('configmaps').find({ cluster: 'c1' }).sort({ _id: 1 }).toArray()

describe('a reconcile task delivered twice', () => {
  it('writes a change once: one run writes it, the other finds nothing to write or the lease held', async () => {
    const core = kubeOf(1).makeApiClient(CoreV1Api)
    await core.patchNamespacedConfigMap({
      name: 'obj-c1',
      namespace,
      body: [{ op: 'replace', path: '/data', value: { cluster: 'c1', round: 'two' } }],
    })
    const before = await c1ConfigMaps()

    const { statuses, writes } = writesOf(await deliverTwice())
    expect(writes).toBe(1)
    for (const status of statuses) expect(['complete', 'skipped']).toContain(status)
    expect(statuses).toContain('complete')

    const after = await c1ConfigMaps()
    expect(after.map((d) => d._id)).toEqual(before.map((d) => d._id))
    const changed = after.filter((d, i) => JSON.stringify(d) !== JSON.stringify(before[i]))
    expect(changed.map((d) => d.name)).toEqual(['obj-c1'])
    expect(await storedObjects(mongo.db, 'configmaps', 'c1')).toEqual(
      await apiObjects(1, 'v1/configmaps'),
    )
  }, 120_000)

  it('changes nothing when there is nothing to change: no write, every document identical', async () => {
    const before = await c1ConfigMaps()
    const counts = await Promise.all(
      RESOURCES.map((r) => mongo.db.collection(r.collection).countDocuments()),
    )

    const { writes } = writesOf(await deliverTwice())
    expect(writes).toBe(0)

    // Byte for byte: no document was rewritten (syncedAt would have moved), none added.
    expect(await c1ConfigMaps()).toEqual(before)
    expect(
      await Promise.all(RESOURCES.map((r) => mongo.db.collection(r.collection).countDocuments())),
    ).toEqual(counts)
    const ids = (await mongo.db.collection('configmaps').find({}).toArray()).map((d) => d._id)
    expect(new Set(ids).size).toBe(ids.length)
  }, 120_000)
})
