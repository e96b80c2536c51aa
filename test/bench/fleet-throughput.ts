import type { Db } from 'mongodb'

import type { StackEnv } from '../stack/env-file.js'
import type { FleetFunctions } from './fleet-workers.js'
import { FLEET_CLUSTERS } from './fleet-workers.js'
import { kubeHttp } from './kube-http.js'
import { ensureBenchObjects } from './seeding.js'
import { ratio } from './stats.js'

/*
 * A three-cluster fleet's reconcile through the queue (functions/reconcile.ts
 * plans one task per cluster, scripts/drain runs functions/reconcileWorker.ts
 * `concurrency` at once) against the same reconcile `inline` in one
 * invocation (which works up to 4 clusters at once), same objects, same
 * MongoDB. Timed twice each: into an empty database (every object inserted)
 * and again with nothing changed (a resync).
 */

export const FLEET_OBJECTS_PER_CLUSTER = 2000
const CONCURRENCY = 3

export interface FleetRunTimes {
  /**
   * From the plan's start to the end of the last worker invocation: the fleet's work, as on
   * Lambda, where nothing waits to see the queue empty.
   */
  workMs: number
  /** Plan (the reconcile function's invocation) + drain until it sees the queue empty (a last 1 s long poll). */
  queueMs: number
  planMs: number
  drainMs: number
  inlineMs: number
  /** workMs / inlineMs. */
  ratio: number
}

export interface ThroughputFigure {
  clusters: number
  objectsPerCluster: number
  concurrency: number
  initial: FleetRunTimes
  resync: FleetRunTimes
  /** Documents per cluster after the queue run and after the inline run (must match). */
  documents: { queue: Record<string, number>; inline: Record<string, number> }
}

async function seedClusters(env: StackEnv, log: (line: string) => void): Promise<void> {
  for (let i = 1; i <= FLEET_CLUSTERS.length; i++) {
    const kube = await kubeHttp(env[`KUBECONFIG_${i}`]!)
    try {
      const seeded = await ensureBenchObjects(kube, FLEET_OBJECTS_PER_CLUSTER, log)
      log(`fleet seed: cluster ${i} ready (${seeded.ms} ms, not timed)`)
    } finally {
      kube.close()
    }
  }
}

async function documentsPerCluster(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const cluster of FLEET_CLUSTERS)
    counts[cluster] = await db.collection('configmaps').countDocuments({ cluster })
  return counts
}

async function throughQueue(
  fns: FleetFunctions,
): Promise<Omit<FleetRunTimes, 'inlineMs' | 'ratio'>> {
  const startedAt = Date.now()
  const t0 = performance.now()
  const plan = await fns.reconcile({})
  const planned = (plan.planned as { tasks?: number } | undefined)?.tasks
  if (planned !== FLEET_CLUSTERS.length) throw new Error(`fleet plan: ${JSON.stringify(plan)}`)
  const t1 = performance.now()
  const summary = await fns.drain({ concurrency: CONCURRENCY })
  const t2 = performance.now()
  if (!summary.drained || summary.failed > 0 || summary.succeeded !== planned)
    throw new Error(
      `fleet drain: drained ${summary.drained}, ${summary.succeeded} ok, ${summary.failed} failed`,
    )
  const lastEnd = Math.max(...summary.invocationResults.map((r) => r.startedAt + r.durationMs))
  return {
    workMs: lastEnd - startedAt,
    queueMs: Math.round(t2 - t0),
    planMs: Math.round(t1 - t0),
    drainMs: Math.round(t2 - t1),
  }
}

async function inline(fns: FleetFunctions): Promise<number> {
  const t0 = performance.now()
  const output = await fns.reconcile({ inline: true })
  const ms = Math.round(performance.now() - t0)
  const resources = (output.resources ?? []) as Array<{ status?: string }>
  if (output.ok !== true || resources.length !== FLEET_CLUSTERS.length)
    throw new Error(`fleet inline run: ${JSON.stringify(output).slice(0, 1000)}`)
  return ms
}

export async function benchThroughput(
  env: StackEnv,
  db: Db,
  fns: FleetFunctions,
  log: (line: string) => void,
): Promise<ThroughputFigure> {
  await seedClusters(env, log)
  await db.dropDatabase()
  const queueInitial = await throughQueue(fns)
  log(`fleet through the queue, initial: ${JSON.stringify(queueInitial)}`)
  const queueResync = await throughQueue(fns)
  log(`fleet through the queue, resync: ${JSON.stringify(queueResync)}`)
  const queueDocuments = await documentsPerCluster(db)
  await db.dropDatabase()
  const inlineInitial = await inline(fns)
  log(`fleet inline, initial: ${inlineInitial} ms`)
  const inlineResync = await inline(fns)
  log(`fleet inline, resync: ${inlineResync} ms`)
  const inlineDocuments = await documentsPerCluster(db)
  return {
    clusters: FLEET_CLUSTERS.length,
    objectsPerCluster: FLEET_OBJECTS_PER_CLUSTER,
    concurrency: CONCURRENCY,
    initial: {
      ...queueInitial,
      inlineMs: inlineInitial,
      ratio: ratio(queueInitial.workMs, inlineInitial),
    },
    resync: {
      ...queueResync,
      inlineMs: inlineResync,
      ratio: ratio(queueResync.workMs, inlineResync),
    },
    documents: { queue: queueDocuments, inline: inlineDocuments },
  }
}
