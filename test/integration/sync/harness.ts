import { CoreV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { MongoClient, type Db } from 'mongodb'
import { loadConfig, type Config } from '../../../lib/config.js'
import { createKubeClient, type KubeClient } from '../../../lib/kube/client.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import { collectionNameOf, parseResourceRef } from '../../../lib/resource-ref.js'
import { createDeadline } from '../../../lib/sync/deadline.js'
import { clusterSource } from '../../../lib/kube/cluster-source.js'
import { mongoResourceStore } from '../../../lib/store/resource-store.js'
import type { ClusterSource } from '../../../lib/kube/cluster-source.js'
import { runReconcile, type ReconcileRunInput } from '../../../lib/sync/reconcile-run.js'
import { runWatch, type WatchRunInput } from '../../../lib/sync/watch-run.js'
import { Breakers } from '../../../lib/resilience/circuit-breaker.js'
import { createPacing, type Pacing } from '../../../lib/store/writes/adaptive-pacing.js'
import { secretValuePolicy } from '../../../lib/runtime/fetched-secrets.js'
import { configMap } from '../../stack/seed-objects.js'
import { uniqueName } from '../../stack/test-helpers.js'

/** Fast retries for tests: the sequence and its bounds are unit-tested. */
export const fastRetry = {
  RETRY_INITIAL_DELAY_MS: '50',
  RETRY_MAX_DELAY_MS: '400',
  BULK_WRITE_BATCH_DELAY_MS: '0',
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MONGODB_URI: process.env.MONGODB_URI,
    KUBECONFIG: process.env.KUBECONFIG,
    // The stack's: the HTTP fault proxy is a plain http:// API server (test/stack/up.ts).
    ALLOW_INSECURE_TLS: process.env.ALLOW_INSECURE_TLS,
    CLUSTER_NAME: 'test',
    ...fastRetry,
    ...overrides,
  })
}

export interface Harness {
  readonly config: Config
  readonly db: Db
  readonly mongo: MongoClient
  readonly kube: KubeClient
  /** The breakers of the harness's "container": one per harness, as a Lambda container keeps one. */
  readonly breakers: Breakers
  /** Its adaptive pacing of bulk writes, shared by every resource, as in a container. */
  readonly pacing: Pacing
  source: ClusterSource
  /** `owner`: the invocation's id (default: a new one per call). */
  reconcile(
    input?: ReconcileRunInput,
    budgetMs?: number,
    owner?: string,
  ): ReturnType<typeof runReconcile>
  watch(input?: WatchRunInput, budgetMs?: number): ReturnType<typeof runWatch>
  close(): Promise<void>
}

/** Our real code paths on a private database, the real API server and the real MongoDB server. */
export async function harness(
  overrides: Record<string, string> = {},
  kubeconfig = process.env.KUBECONFIG!,
  /** The MongoDB the sync writes to (e.g. MONGODB_URI_TOXIPROXY, for network faults). */
  mongoUri = process.env.MONGODB_URI!,
): Promise<Harness> {
  const config = testConfig({ KUBECONFIG: kubeconfig, ...overrides })
  // The production timeouts (a hung server fails an operation instead of stalling the test).
  const mongo = await new MongoClient(mongoUri, {
    monitorCommands: true,
    maxPoolSize: config.mongodb.poolMax,
    connectTimeoutMS: config.mongodb.connectTimeoutMs,
    socketTimeoutMS: config.mongodb.socketTimeoutMs,
    serverSelectionTimeoutMS: config.mongodb.serverSelectionTimeoutMs,
  }).connect()
  const db = mongo.db(uniqueName('t').replace(/-/g, '_'))
  const breakers = new Breakers(config)
  const kube = createKubeClient(
    { kind: 'file', path: kubeconfig },
    {
      requestTimeoutMs: config.k8s.requestTimeoutMs,
      guard: breakers.guardOf('kubernetes'),
      allowInsecureTls: config.allowInsecureTls,
    },
  )
  const secrets = secretValuePolicy(config, {})
  const pacing = createPacing(config)
  const store = { config, secrets, guard: breakers.guardOf('mongodb'), pacing }
  const storeFor = (resolved: ResolvedResource) => mongoResourceStore(db, resolved, store)
  const h: Harness = {
    config,
    db,
    mongo,
    kube,
    breakers,
    pacing,
    source: clusterSource(kube, config),
    async reconcile(input = {}, budgetMs = 120_000, owner = uniqueName('reconcile')) {
      const deadline = createDeadline(budgetMs, 0)
      try {
        return await runReconcile({ config, source: h.source, storeFor, deadline, owner }, input)
      } finally {
        deadline.dispose()
      }
    },
    async watch(input = {}, budgetMs = 120_000) {
      const deadline = createDeadline(budgetMs, 0)
      try {
        return await runWatch(
          { config, source: h.source, storeFor, deadline, owner: uniqueName('watch') },
          input,
        )
      } finally {
        deadline.dispose()
      }
    },
    async close() {
      await db.dropDatabase().catch(() => undefined)
      await mongo.close()
    },
  }
  return h
}

export interface Divergence {
  live: number
  stored: number
  lost: string[]
  stale: string[]
  extra: string[]
}

/**
 * The independent checker: a fresh list through client-node (not our pager)
 * compared with the documents, uid by uid and resourceVersion by resourceVersion.
 */
export async function divergence(
  kc: KubeConfig,
  db: Db,
  resource: string,
  kind: string,
  namespaces: readonly string[],
  cluster = 'test',
): Promise<Divergence> {
  const ref = parseResourceRef(resource)!
  const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version
  const api = KubernetesObjectApi.makeApiClient(kc)
  const live = new Map<string, string>()
  for (const namespace of namespaces) {
    const list = await api.list(apiVersion, kind, namespace)
    for (const item of list.items) live.set(item.metadata!.uid!, item.metadata!.resourceVersion!)
  }
  const stored = new Map<string, string>()
  const docs = db
    .collection<{ _id: string; uid: string; resourceVersion: string; namespace: string | null }>(
      collectionNameOf(ref),
    )
    .find(
      { cluster, namespace: { $in: [...namespaces] } },
      { projection: { uid: 1, resourceVersion: 1 } },
    )
  for await (const d of docs) stored.set(d.uid, d.resourceVersion)
  return {
    live: live.size,
    stored: stored.size,
    lost: [...live.keys()].filter((uid) => !stored.has(uid)),
    stale: [...live]
      .filter(([uid, rv]) => stored.has(uid) && stored.get(uid) !== rv)
      .map(([uid]) => uid),
    extra: [...stored.keys()].filter((uid) => !live.has(uid)),
  }
}

export const converged = { lost: [], stale: [], extra: [] }

/** A new namespace holding `count` ConfigMaps (`cm-0`, `cm-1`, ...), created 16 at a time. */
export async function namespaceWithConfigMaps(
  kc: KubeConfig,
  count: number,
  prefix: string,
): Promise<string> {
  const ns = uniqueName(prefix)
  const core = kc.makeApiClient(CoreV1Api)
  await core.createNamespace({ body: { metadata: { name: ns } } })
  const limit = pLimit(16)
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() => core.createNamespacedConfigMap({ namespace: ns, body: configMap(`cm-${i}`, i) })),
    ),
  )
  return ns
}
