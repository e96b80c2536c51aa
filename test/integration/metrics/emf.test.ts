import { CoreV1Api, type V1ResourceQuota } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { invoke, type Invocation } from '../../faults/invoke.js'
import { createTestNamespace, kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'

/*
 * The metrics of known runs, read from the EMF lines the real handler prints
 * (scripts/invoke.ts: the same middy wiring as deployed). ResourceQuotas are
 * a kind no other test creates, so a cluster-wide list holds only this test's.
 */

const RESOURCE = 'v1/resourcequotas'
const NAMESPACE = 'KubeMongoSyncTest'

interface Emf {
  readonly _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }
  readonly [key: string]: unknown
}

function emfLines(run: Invocation): Emf[] {
  return run.output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf)
}

const resourceLine = (run: Invocation) => emfLines(run).find((l) => l.resource === RESOURCE)
const clusterLine = (run: Invocation) => emfLines(run).find((l) => l.resource === undefined)

const quota = (name: string, pods: string): V1ResourceQuota => ({
  metadata: { name },
  spec: { hard: { pods } },
})

describe('CloudWatch metrics (EMF) of real invocations', () => {
  const kc = kubeConfigFrom()
  const core = kc.makeApiClient(CoreV1Api)
  let namespace: string
  let env: Record<string, string>

  // The list is cluster-wide: quotas a previous run left (on a reused stack) would count too.
  const deleteAllQuotas = async () => {
    const all = await core.listResourceQuotaForAllNamespaces()
    for (const q of all.items)
      await core.deleteNamespacedResourceQuota({
        name: q.metadata!.name!,
        namespace: q.metadata!.namespace!,
      })
  }

  beforeAll(async () => {
    await deleteAllQuotas()
    namespace = await createTestNamespace(kc, 'emf')
    for (let i = 0; i < 5; i++)
      await core.createNamespacedResourceQuota({ namespace, body: quota(`q-${i}`, String(10 + i)) })
    env = {
      ...(process.env as Record<string, string>),
      MONGODB_DB: uniqueName('emf').replace(/-/g, '_'),
      SYNC_RESOURCES: RESOURCE,
      CLUSTER_NAME: 'emf-test',
      POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
      RETRY_INITIAL_DELAY_MS: '50',
      RUN_BUDGET_MS: '120000',
    }
  })

  afterAll(async () => {
    await deleteAllQuotas()
  })

  it('carries the counts of a reconcile and of the watch that follows it', async () => {
    const first = await invoke('reconcile', {}, { env })
    expect(first.exitCode).toBe(0)
    const line1 = resourceLine(first)
    expect(line1?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: NAMESPACE,
      Dimensions: [expect.arrayContaining(['service', 'cluster', 'resource'])],
    })
    expect(line1).toMatchObject({
      service: 'kube-mongo-sync',
      cluster: 'emf-test',
      ObjectsListed: 5,
      ObjectsInserted: 5,
      ObjectsUpdated: 0,
      ObjectsDeleted: 0,
      ObjectsUnchanged: 0,
      PagesListed: 1,
      ChunkRetries: 0,
      ChunkFailures: 0,
      SyncFailures: 0,
      CompleteSyncAgeSeconds: 0,
    })
    expect(line1?.SyncDurationMs).toBeGreaterThan(0)
    expect(clusterLine(first)).toMatchObject({
      cluster: 'emf-test',
      BreakerOpens: 0,
      ResourcesNeverSynced: 0,
      OldestCompleteSyncAgeSeconds: 0,
    })

    // 2 updates, 1 delete, 2 creates: the next reconcile writes exactly those.
    for (const name of ['q-0', 'q-1'])
      await core.replaceNamespacedResourceQuota({ name, namespace, body: quota(name, '99') })
    await core.deleteNamespacedResourceQuota({ name: 'q-2', namespace })
    for (const name of ['q-5', 'q-6'])
      await core.createNamespacedResourceQuota({ namespace, body: quota(name, '7') })
    const second = await invoke('reconcile', {}, { env })
    expect(second.exitCode).toBe(0)
    expect(resourceLine(second)).toMatchObject({
      ObjectsListed: 6,
      ObjectsInserted: 2,
      ObjectsUpdated: 2,
      ObjectsDeleted: 1,
      ObjectsUnchanged: 2,
    })

    // 4 events after the saved resourceVersion: the watch replays exactly those.
    await core.replaceNamespacedResourceQuota({ name: 'q-3', namespace, body: quota('q-3', '1') })
    await core.deleteNamespacedResourceQuota({ name: 'q-4', namespace })
    await core.createNamespacedResourceQuota({ namespace, body: quota('q-7', '3') })
    await core.replaceNamespacedResourceQuota({ name: 'q-7', namespace, body: quota('q-7', '4') })
    const watch = await invoke('watch', { windowSeconds: 2 }, { env })
    expect(watch.exitCode).toBe(0)
    const line3 = resourceLine(watch)
    expect(line3).toMatchObject({
      WatchEvents: 4,
      WatchReconnects: 0,
      Relists: 0,
      ObjectsInserted: 1,
      ObjectsUpdated: 1,
      ObjectsDeleted: 1,
      WatchFailures: 0,
    })
    expect(line3?.EventLagMs).toBeGreaterThan(0)
    expect(line3?.CompleteSyncAgeSeconds).toBeGreaterThanOrEqual(0)
    expect(clusterLine(watch)).toMatchObject({ BreakerOpens: 0, ResourcesNeverSynced: 0 })
  })
})
