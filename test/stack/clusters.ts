import { existsSync, readdirSync } from 'node:fs'

import { readEnvFile } from './env-file.js'
import { dirs } from './paths.js'
import { maxClusters } from './ports.js'
import { runningPid, type StopOptions } from './proc.js'
import { stopSpec } from './server-lifecycle.js'
import { kubeApiserverSpec } from './servers/kube-apiserver.js'
import type { ServerSpec } from './servers/server.js'

// Clusters 2..N of a multi-cluster stack: extra kube-apiservers on the shared etcd (see
// servers/kube-apiserver.ts). Cluster 1 is the stack's original API server and is never
// counted or stopped here.

export interface ClusterCountOptions {
  /** Exactly this many clusters: extras above it are stopped. */
  clusters?: number
  /** When no count is given: at least this many, never stopping clusters already running. */
  minClusters?: number
}

export function parseClusterCount(value: string | number, source: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > maxClusters) {
    throw new Error(`${source}: ${value} is not a cluster count from 1 to ${maxClusters}`)
  }
  return n
}

/** Extra clusters (>= 2) whose API server is running, from the pid files, ascending. */
export function runningExtraClusters(): number[] {
  if (!existsSync(dirs.pids)) return []
  const found: number[] = []
  for (const entry of readdirSync(dirs.pids)) {
    const match = /^kube-apiserver-c(\d+)\.pid$/.exec(entry)
    const cluster = Number(match?.[1])
    if (!match || cluster < 2 || cluster > maxClusters) continue
    const spec = kubeApiserverSpec(cluster)
    if (runningPid(spec.name, spec.bin) !== undefined) found.push(cluster)
  }
  return found.sort((a, b) => a - b)
}

/** `--clusters` wins, then KMS_STACK_CLUSTERS, else keep what runs (at least minClusters). */
export function resolveClusterCount(opts: ClusterCountOptions = {}): number {
  if (opts.clusters !== undefined) return parseClusterCount(opts.clusters, '--clusters')
  const fromEnv = process.env.KMS_STACK_CLUSTERS
  if (fromEnv) return parseClusterCount(fromEnv, 'KMS_STACK_CLUSTERS')
  return Math.max(opts.minClusters ?? 1, ...runningExtraClusters(), 1)
}

/** The extra clusters the stack knows of: running ones plus those .stack/env promises. */
export function knownExtraClusters(): number[] {
  const promised = Number(readEnvFile()?.STACK_CLUSTERS ?? 1)
  const known = new Set(runningExtraClusters())
  for (let c = 2; c <= promised && c <= maxClusters; c++) known.add(c)
  return [...known].sort((a, b) => a - b)
}

export const extraClusterSpecs = (clusters: number[]): ServerSpec[] =>
  clusters.map(kubeApiserverSpec)

/** Stops every running extra cluster above `keep`; its objects stay in etcd for a later up. */
export async function stopClustersAbove(keep: number, opts?: StopOptions): Promise<number[]> {
  const extras = runningExtraClusters().filter((c) => c > keep)
  await Promise.all(extras.map((c) => stopSpec(kubeApiserverSpec(c), opts)))
  return extras
}
