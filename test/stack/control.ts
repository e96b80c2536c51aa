import { readEnvFile, type StackEnv } from './env-file.js'
import { compactAtCurrentRevision } from './etcd-compaction.js'
import type { StopOptions } from './proc.js'
import { ensureServer, stopSpec } from './server-lifecycle.js'
import { ferretdb } from './servers/ferretdb.js'
import { kubeApiserver, kubeApiserverSpec } from './servers/kube-apiserver.js'
import { withStackLock } from './stack-lock.js'
import { sleep } from './wait.js'

// Helpers for tests that break the stack on purpose. Data survives every stop/start here.

/**
 * How long the API server may take to notice a compaction: a 1 s poll of compact_rev_key, then
 * each resource's watch cache checks every 15 s (k8s.io/apiserver cacher compactorPollPeriod).
 */
export const apiServerCompactionLagMs = 16_500

export function stackEnv(): StackEnv {
  const env = readEnvFile()
  if (!env) throw new Error('no .stack/env: run `npm run stack:up` first')
  return env
}

function requireOwned(what: 'kube' | 'mongo') {
  const env = stackEnv()
  const external = what === 'kube' ? env.STACK_KUBE_EXTERNAL : env.STACK_MONGO_EXTERNAL
  if (external === '1') {
    const by = what === 'kube' ? 'TEST_KUBECONFIG' : 'MONGODB_URI'
    throw new Error(`${what} is external (${by}); the stack cannot stop or compact it`)
  }
  return env
}

export function stopMongo(opts?: StopOptions): Promise<void> {
  requireOwned('mongo')
  return withStackLock(async () => void (await stopSpec(ferretdb, opts)))
}

export function startMongo(): Promise<void> {
  requireOwned('mongo')
  return withStackLock(async () => void (await ensureServer(ferretdb)))
}

export function stopApiServer(opts?: StopOptions): Promise<void> {
  requireOwned('kube')
  return withStackLock(async () => void (await stopSpec(kubeApiserver, opts)))
}

export function startApiServer(): Promise<void> {
  requireOwned('kube')
  return withStackLock(async () => void (await ensureServer(kubeApiserver)))
}

function clusterSpec(cluster: number) {
  const env = requireOwned('kube')
  const clusters = Number(env.STACK_CLUSTERS ?? 1)
  if (!Number.isInteger(cluster) || cluster < 1 || cluster > clusters) {
    throw new Error(`cluster ${cluster}: the stack runs clusters 1 to ${clusters} (STACK_CLUSTERS)`)
  }
  return cluster === 1 ? kubeApiserver : kubeApiserverSpec(cluster)
}

/** Stops one cluster's API server (1 is the stack's original one); its objects stay in etcd. */
export function stopApiserver(cluster: number, opts?: StopOptions): Promise<void> {
  const spec = clusterSpec(cluster)
  return withStackLock(async () => void (await stopSpec(spec, opts)))
}

/** Starts one cluster's API server again and waits until its lists answer. */
export function startApiserver(cluster: number): Promise<void> {
  const spec = clusterSpec(cluster)
  return withStackLock(async () => void (await ensureServer(spec)))
}

/**
 * A restart also empties the watch cache: a watch from any resourceVersion older than the
 * restart then gets a real 410 ("too old resource version").
 */
export function restartApiServer(opts?: StopOptions): Promise<void> {
  return withStackLock(async () => {
    await stopApiServer(opts)
    await startApiServer()
  })
}

export interface CompactOptions {
  /** Wait until every watch cache must have seen the compaction (see apiServerCompactionLagMs). */
  awaitApiServer?: boolean
}

/** Compacts etcd so every resourceVersion read before the call is history; returns the revision. */
export async function compactEtcd(opts: CompactOptions = {}): Promise<number> {
  const env = requireOwned('kube')
  const endpoint = env.ETCD_ENDPOINT
  if (!endpoint) throw new Error('ETCD_ENDPOINT missing from .stack/env')
  const revision = await compactAtCurrentRevision(endpoint)
  if (opts.awaitApiServer) await sleep(apiServerCompactionLagMs)
  return revision
}
