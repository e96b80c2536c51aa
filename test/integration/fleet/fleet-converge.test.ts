import { CoreV1Api } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queueDepth } from '../../stack/queues.js'
import { uniqueName } from '../../stack/test-helpers.js'
import {
  CLUSTER_NUMBERS,
  RESOURCES,
  apiObjects,
  clusterName,
  drain,
  fleetEnv,
  invoke,
  kubeOf,
  misKeyed,
  openDb,
  seedCluster,
  storedDocs,
  storedObjects,
  tail,
  type DrainRun,
  type FleetEnv,
  type MongoHandle,
} from './helpers.js'

/*
 * Three clusters x three resources through the queues, as deployed: the
 * scheduled reconcile plans one task per (cluster, resource), the drain
 * plays Lambda's event source, and every cluster's documents end equal to
 * what its own API server serves, none crossing to another cluster. Then the
 * scheduled watch plans groups of clusters and its windows apply a change.
 */

let fleet: FleetEnv
let mongo: MongoHandle
let reconcileDrain: DrainRun | undefined
const namespace = uniqueName('fleet')

beforeAll(async () => {
  fleet = await fleetEnv('converge')
  for (const n of CLUSTER_NUMBERS) await seedCluster(n, namespace)
  mongo = await openDb(fleet.db)
})

afterAll(async () => {
  await mongo?.db.dropDatabase().catch(() => undefined)
  await mongo?.close()
})

/** Every cluster's documents of every resource equal its API server's objects, nothing more. */
async function expectConverged(): Promise<void> {
  for (const n of CLUSTER_NUMBERS) {
    for (const r of RESOURCES) {
      const served = await apiObjects(n, r.id)
      expect(served.length, `${clusterName(n)} ${r.id} serves objects`).toBeGreaterThan(0)
      expect(
        await storedObjects(mongo.db, r.collection, clusterName(n)),
        `${clusterName(n)} ${r.id}`,
      ).toEqual(served)
    }
  }
  for (const r of RESOURCES) {
    const docs = await storedDocs(mongo.db, r.collection)
    expect(new Set(docs.map((d) => d.cluster)), r.collection).toEqual(new Set(['c1', 'c2', 'c3']))
    // The object named for a cluster is stored for that cluster only.
    for (const d of docs.filter((doc) => doc.namespace === namespace))
      expect(d.name, `${r.collection} ${d._id}`).toMatch(new RegExp(`^obj-${d.cluster}(-late)?$`))
  }
  expect(await misKeyed(mongo.db)).toEqual([])
}

/** Container-level lines (settings, MongoDB connection) are not a task's. */
const containerEvents = new Set(['configuration', 'mongo.connected', 'mongo.disconnected'])

/** The lines a task's own run logs: all but the container's and the task's start and end. */
const runLines = (run: DrainRun) =>
  run.logs.filter(
    (l) => !containerEvents.has(String(l.event)) && !String(l.event).startsWith('task.'),
  )

function expectEveryLineNamesItsCluster(
  lines: DrainRun['logs'],
  key: 'cluster' | 'clusters',
): void {
  const taskLines = lines
  expect(taskLines.length).toBeGreaterThan(0)
  // A run's summary names the cluster in each of its resource reports.
  const names = (l: DrainRun['logs'][number]) =>
    l[key] !== undefined ||
    (Array.isArray(l.resources) &&
      (l.resources as Array<{ cluster?: string }>).every((r) => r.cluster !== undefined))
  const unnamed = taskLines.filter((l) => !names(l))
  expect(
    unnamed.map((l) => `${l.event}: ${l.message}`),
    'log lines that do not name their cluster',
  ).toEqual([])
}

describe('a fleet of three clusters through the queues', () => {
  it('plans one reconcile task per (cluster, resource) and the drain converges every cluster exactly', async () => {
    const planned = await invoke('reconcile', {}, fleet.env)
    expect(planned.code, tail(planned.output)).toBe(0)
    expect(planned.result).toMatchObject({
      ok: true,
      planned: { kind: 'reconcile', tasks: 9, clusters: ['c1', 'c2', 'c3'] },
    })
    expect((await queueDepth(fleet.queues.reconcile.url)).visible).toBe(9)
    expect(await storedDocs(mongo.db, 'configmaps')).toEqual([])

    const drained = await drain(fleet.env, { queue: 'reconcile', concurrency: 3 })
    expect(drained.code, tail(drained.output)).toBe(0)
    expect(drained.summary).toMatchObject({ drained: true, succeeded: 9, failed: 0, deleted: 9 })
    expect(drained.summary.queues[0]!.dlqDepth).toBe(0)
    await expectConverged()

    const done = drained.logs.filter((l) => l.event === 'task.done')
    expect(done.map((l) => `${l.cluster} ${l.resource} ${l.outcome}`).sort()).toEqual(
      CLUSTER_NUMBERS.flatMap((n) => RESOURCES.map((r) => `c${n} ${r.id} done`)).sort(),
    )
    expectEveryLineNamesItsCluster(
      drained.logs.filter(
        (l) => String(l.event).startsWith('task.') || l.event === 'reconcile.summary',
      ),
      'cluster',
    )
    // Each task's metrics carry its own cluster, never the worker's CLUSTER_NAME.
    const metricClusters = drained.metrics.filter((m) => 'cluster' in m).map((m) => m.cluster)
    expect(new Set(metricClusters)).toEqual(new Set(['c1', 'c2', 'c3']))
    reconcileDrain = drained
  })

  it('plans the watch in groups of WATCH_CLUSTERS_PER_WORKER and its windows apply a later change', async () => {
    for (const n of CLUSTER_NUMBERS) {
      const core = kubeOf(n).makeApiClient(CoreV1Api)
      await core.patchNamespacedConfigMap({
        name: `obj-${clusterName(n)}`,
        namespace,
        body: [
          { op: 'replace', path: '/data', value: { cluster: clusterName(n), changed: 'yes' } },
        ],
      })
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: `obj-${clusterName(n)}-late` } },
      })
    }
    // Documents still say what the reconcile saw: only a watch window can bring the change.
    const stale = await storedObjects(mongo.db, 'configmaps', 'c2')
    expect(stale).not.toEqual(await apiObjects(2, 'v1/configmaps'))

    const planned = await invoke('watch', { windowSeconds: 3 }, fleet.env)
    expect(planned.code, tail(planned.output)).toBe(0)
    expect(planned.result).toMatchObject({
      ok: true,
      planned: { kind: 'watch', tasks: 2, clusters: ['c1', 'c2', 'c3'] },
    })
    expect((await queueDepth(fleet.queues.watch.url)).visible).toBe(2)

    const drained = await drain(fleet.env, { queue: 'watch', concurrency: 2 })
    expect(drained.code, tail(drained.output)).toBe(0)
    expect(drained.summary).toMatchObject({ drained: true, succeeded: 2, failed: 0 })
    const groups = drained.logs
      .filter((l) => l.event === 'task.done')
      .map((l) => (l.clusters as string[]).join('+'))
      .sort()
    expect(groups).toEqual(['c1+c2', 'c3'])
    // Each late ConfigMap came from its own cluster's watch (created in each cluster, stored once each).
    const late = (await storedDocs(mongo.db, 'configmaps')).filter(
      (d) => d.namespace === namespace && d.name.endsWith('-late'),
    )
    expect(late.map((d) => `${d.cluster} ${d.name}`).sort()).toEqual([
      'c1 obj-c1-late',
      'c2 obj-c2-late',
      'c3 obj-c3-late',
    ])
    await expectConverged()
    expectEveryLineNamesItsCluster(
      drained.logs.filter(
        (l) => String(l.event).startsWith('task.') || l.event === 'watch.summary',
      ),
      'clusters',
    )
  })

  // Several tasks run at once in one process: each line must say which cluster it is about.
  it('names the cluster on every line a reconcile task logs', () => {
    expect(reconcileDrain).toBeDefined()
    expectEveryLineNamesItsCluster(runLines(reconcileDrain!), 'cluster')
  })
})
