import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { MongoClient, type Db } from 'mongodb'
import type { DrainSummary } from '../../../scripts/drain/types.js'
import { ensureWorkQueues, type WorkQueues } from '../../stack/queues.js'
import { repoRoot } from '../../stack/paths.js'
import { kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { invokeScript, type ScriptRun } from '../health/run-invoke.js'
import { randomDbName } from '../store/helpers.js'

/*
 * A fleet of the stack's three clusters, run as deployed: the scheduled
 * functions and the drain each in a cold child process with exactly the
 * environment a test gives them (the handlers read their settings once per
 * process), MongoDB read directly to check what they wrote.
 */

export const CLUSTER_NUMBERS = [1, 2, 3] as const
export const clusterName = (n: number) => `c${n}`

/** The three synced resources, with their collections and how to list them from the API server. */
export const RESOURCES = [
  { id: 'v1/configmaps', collection: 'configmaps' },
  { id: 'v1/secrets', collection: 'secrets' },
  { id: 'apps/v1/deployments', collection: 'deployments.apps' },
] as const

export function kubeconfigPathOf(n: number): string {
  const path = process.env[`KUBECONFIG_${n}`]
  if (!path) throw new Error(`KUBECONFIG_${n} missing: run npm run stack:up -- --clusters 3`)
  return path
}

export const kubeOf = (n: number): KubeConfig => kubeConfigFrom(kubeconfigPathOf(n))

export interface RegistryEntry {
  readonly name: string
  readonly kubeconfigPath: string
}

export const registryOf = (numbers: readonly number[]): RegistryEntry[] =>
  numbers.map((n) => ({ name: clusterName(n), kubeconfigPath: kubeconfigPathOf(n) }))

export interface FleetEnv {
  readonly env: NodeJS.ProcessEnv
  readonly db: string
  readonly queues: WorkQueues
}

/**
 * A fleet's environment: its own database and work queues, the registry of
 * `numbers`, one-second worker retries and quick failures.
 */
export async function fleetEnv(
  prefix: string,
  numbers: readonly number[] = CLUSTER_NUMBERS,
  overrides: NodeJS.ProcessEnv = {},
): Promise<FleetEnv> {
  const queues = await ensureWorkQueues({
    prefix: uniqueName(prefix),
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 3,
  })
  const db = randomDbName(prefix.replace(/-/g, '_'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLUSTERS: JSON.stringify(registryOf(numbers)),
    CLUSTER_NAME: 'unused-single',
    MONGODB_DB: db,
    SYNC_RESOURCES: RESOURCES.map((r) => r.id).join(','),
    RECONCILE_QUEUE_URL: queues.reconcile.url,
    WATCH_QUEUE_URL: queues.watch.url,
    WORKER_RETRY_DELAY_SECONDS: '1',
    WATCH_CLUSTERS_PER_WORKER: '2',
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_INITIAL_DELAY_MS: '100',
    RETRY_MAX_DELAY_MS: '200',
    K8S_REQUEST_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'info',
    ...overrides,
  }
  return { env, db, queues }
}

/** `invoke <fn> <input>` in a cold process. */
export const invoke = (
  fn: 'reconcile' | 'watch' | 'health',
  input: unknown,
  env: NodeJS.ProcessEnv,
) => invokeScript(fn, input, env)

/** A JSON log line of a function (lib/log.ts), as printed. */
export type LogLine = Record<string, unknown> & {
  level?: string
  event?: string
  message?: string
  cluster?: string
  clusters?: string[]
  resource?: string
  outcome?: string
  receiveCount?: number
}

export const logLinesOf = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine]
      } catch {
        return []
      }
    })
    .filter((line) => line.level !== undefined)

export interface DrainRun {
  readonly code: number
  readonly summary: Omit<DrainSummary, 'invocationResults'>
  /** drain's per-invocation lines (--json). */
  readonly invocations: Array<Record<string, unknown>>
  /** The workers' JSON log lines. */
  readonly logs: LogLine[]
  /** The workers' CloudWatch embedded-metric lines (EMF). */
  readonly metrics: Array<Record<string, unknown>>
  readonly output: string
}

const run = promisify(execFile)

/** `npm run drain -- --no-stack-env --json ...` in a cold process with `env`. */
export async function drain(
  env: NodeJS.ProcessEnv,
  options: {
    concurrency?: number
    maxSeconds?: number
    queue?: 'reconcile' | 'watch' | 'all'
  } = {},
): Promise<DrainRun> {
  const args = [
    '--import',
    'tsx',
    join(repoRoot, 'scripts', 'drain.ts'),
    '--no-stack-env',
    '--json',
    '--queue',
    options.queue ?? 'all',
    '--concurrency',
    String(options.concurrency ?? 2),
    '--timeout-seconds',
    '60',
    '--max-seconds',
    String(options.maxSeconds ?? 60),
  ]
  const done = await run(process.execPath, args, {
    cwd: repoRoot,
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: ((options.maxSeconds ?? 60) + 60) * 1000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  )
  const lines = done.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const ours = lines.filter((line) => line.source === 'drain')
  const summary = ours.find((line) => line.event === 'summary')
  if (!summary) {
    throw new Error(`drain printed no summary (exit ${done.code}):\n${done.stdout}\n${done.stderr}`)
  }
  return {
    code: done.code,
    summary: summary as unknown as DrainRun['summary'],
    invocations: ours.filter((line) => line.event === 'invocation'),
    // The logger writes errors and warnings to stderr.
    logs: [
      ...lines.filter((line) => line.source !== 'drain' && line.level !== undefined),
      ...logLinesOf(done.stderr),
    ] as LogLine[],
    metrics: lines.filter((line) => '_aws' in line),
    output: `${done.stdout}\n${done.stderr}`,
  }
}

/** What a synced object comes to: enough to prove a document is the object as served now. */
export interface ObjectKey {
  readonly namespace: string | null
  readonly name: string
  readonly uid: string
  readonly resourceVersion: string
}

const keyOf = (o: {
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string }
}): ObjectKey => ({
  namespace: o.metadata?.namespace ?? null,
  name: o.metadata?.name ?? '',
  uid: o.metadata?.uid ?? '',
  resourceVersion: o.metadata?.resourceVersion ?? '',
})

const byId = (a: ObjectKey, b: ObjectKey) => a.uid.localeCompare(b.uid)

/** Every object of `resource` in cluster `n`, as its API server lists it now. */
export async function apiObjects(n: number, resource: string): Promise<ObjectKey[]> {
  const kc = kubeOf(n)
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const list =
    resource === 'v1/configmaps'
      ? await core.listConfigMapForAllNamespaces()
      : resource === 'v1/secrets'
        ? await core.listSecretForAllNamespaces()
        : await apps.listDeploymentForAllNamespaces()
  return list.items.map(keyOf).sort(byId)
}

/** Creates one ConfigMap, Secret and Deployment named for cluster `n` in a new namespace there. */
export async function seedCluster(n: number, namespace: string): Promise<void> {
  const kc = kubeOf(n)
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  await core.createNamespace({ body: { metadata: { name: namespace } } })
  const name = `obj-${clusterName(n)}`
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name }, data: { cluster: clusterName(n) } },
  })
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name }, stringData: { cluster: clusterName(n) } },
  })
  const labels = { app: name }
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 0,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
        },
      },
    },
  })
}

export interface MongoHandle {
  readonly db: Db
  close(): Promise<void>
}

export async function openDb(name: string): Promise<MongoHandle> {
  const client = new MongoClient(process.env.MONGODB_URI ?? '')
  await client.connect()
  return { db: client.db(name), close: () => client.close() }
}

export interface StoredDoc extends ObjectKey {
  readonly _id: string
  readonly cluster: string
}

/** Every document of a collection, sorted by `_id`. */
export async function storedDocs(db: Db, collection: string): Promise<StoredDoc[]> {
  const docs = await db
    .collection<StoredDoc>(collection)
    .find({}, { projection: { object: 0, labels: 0 } })
    .toArray()
  return docs.sort((a, b) => a._id.localeCompare(b._id))
}

/** A cluster's documents of one collection, as object keys sorted like apiObjects. */
export async function storedObjects(
  db: Db,
  collection: string,
  cluster: string,
): Promise<ObjectKey[]> {
  return (await storedDocs(db, collection))
    .filter((d) => d.cluster === cluster)
    .map(({ namespace, name, uid, resourceVersion }) => ({ namespace, name, uid, resourceVersion }))
    .sort(byId)
}

/** Checks every document of every collection is keyed by its cluster: `_id` `<cluster>/<uid>`. */
export async function misKeyed(db: Db): Promise<string[]> {
  const bad: string[] = []
  for (const { collection } of RESOURCES) {
    for (const d of await storedDocs(db, collection)) {
      if (d._id !== `${d.cluster}/${d.uid}`) bad.push(`${collection} ${d._id} (${d.cluster})`)
    }
  }
  return bad
}

/** The end of a run's output: enough to see why an expectation failed. */
export const tail = (output: string, lines = 15): string =>
  output.split('\n').slice(-lines).join('\n')

export type { ScriptRun }
