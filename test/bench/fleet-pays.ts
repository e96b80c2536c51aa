import type { MongoClient } from 'mongodb'

import type { StackEnv } from '../stack/env-file.js'
import { tunedSettings } from './configs.js'
import { inParallel, kubeHttp, type KubeHttp } from './kube-http.js'
import { ensureBenchObjects, listBenchObjects, SEED_CONCURRENCY } from './seeding.js'
import { startSyncChild, type SyncChild } from './sync-child.js'

/*
 * "Every cluster pays only for itself" (issue 18): one cluster's full
 * reconcile of PAYS_OBJECTS objects, nothing changed and then 10% changed,
 * timed with the collection holding only its documents, and again after ten
 * other clusters' real reconciles of the same API server under other
 * CLUSTER_NAMEs have added their documents, snapshots and sync state to the
 * same collections (10 x PAYS_OBJECTS more). The timed cluster runs in one
 * warm process throughout (sync-child.ts: the deployed bundle); the target
 * is beside / alone <= 1.5.
 */

export const PAYS_OBJECTS = 5000
export const OTHER_CLUSTERS = 10
const DB_NAME = 'kmsbench_fleet_pays'
const CLUSTER = 'pays-self'
/** Nothing-changed resyncs per timing; the median is reported. */
const RESYNCS = 3

export interface ResyncTimes {
  unchangedMs: number
  changedMs: number
}

export interface PaysFigure {
  objects: number
  otherClusters: number
  otherDocuments: number
  changedObjects: number
  alone: ResyncTimes
  beside: ResyncTimes
  /** beside / alone, target <= 1.5. */
  unchangedRatio: number
  changedRatio: number
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Changes a tenth of the bench ConfigMaps (every tenth, so every page sees some). */
async function changeTenth(kube: KubeHttp): Promise<number> {
  const picked = (await listBenchObjects(kube)).filter((_, i) => i % 10 === 0)
  const stamp = new Date().toISOString()
  await inParallel(picked, SEED_CONCURRENCY, async ({ namespace, name }) => {
    const res = await kube.request('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${name}`, {
      body: { data: { CHANGED_AT: stamp } },
      contentType: 'application/merge-patch+json',
    })
    if (res.status !== 200) throw new Error(`patch ${namespace}/${name}: HTTP ${res.status}`)
  })
  return picked.length
}

async function timeResyncs(
  child: SyncChild,
  kube: KubeHttp,
  label: string,
  log: (l: string) => void,
): Promise<ResyncTimes & { changed: number }> {
  const unchanged: number[] = []
  for (let i = 0; i < RESYNCS; i++) {
    const run = await child.reconcile()
    if (run.report.updated + run.report.inserted + run.report.deleted > 0)
      throw new Error(`${label}: a nothing-changed resync wrote: ${JSON.stringify(run.report)}`)
    unchanged.push(run.ms)
  }
  const changed = await changeTenth(kube)
  const run = await child.reconcile()
  log(
    `fleet pays ${label}: unchanged ${unchanged.join('/')} ms, ${changed} changed ${run.ms} ms (${run.report.updated} updated)`,
  )
  return { unchangedMs: median(unchanged), changedMs: run.ms, changed }
}

function setup(env: StackEnv, cluster: string) {
  return {
    mongoUri: env.MONGODB_URI!,
    kubeconfig: env.KUBECONFIG!,
    dbName: DB_NAME,
    settings: { ...tunedSettings, CLUSTER_NAME: cluster },
  }
}

/**
 * Ten other clusters' real reconciles: same objects, other names, other `_id`s.
 * Returns the documents they wrote (their reports: counting the collection
 * would scan it on FerretDB).
 */
async function addOtherClusters(env: StackEnv, log: (l: string) => void): Promise<number> {
  let documents = 0
  for (let k = 1; k <= OTHER_CLUSTERS; k++) {
    const other = await startSyncChild(setup(env, `pays-other-${k}`))
    try {
      const run = await other.reconcile()
      documents += run.report.inserted
      log(
        `fleet pays: other cluster ${k} reconciled ${run.report.inserted} objects in ${run.ms} ms (not timed)`,
      )
    } finally {
      await other.exit()
    }
  }
  return documents
}

export async function benchPays(
  env: StackEnv,
  mongo: MongoClient,
  log: (line: string) => void,
): Promise<PaysFigure> {
  const db = mongo.db(DB_NAME)
  await db.dropDatabase()
  const kube = await kubeHttp(env.KUBECONFIG!)
  const child = await startSyncChild(setup(env, CLUSTER))
  try {
    const seeded = await ensureBenchObjects(kube, PAYS_OBJECTS, log)
    log(`fleet pays: ${PAYS_OBJECTS} ConfigMaps ready (${seeded.ms} ms, not timed)`)
    const initial = await child.reconcile()
    log(`fleet pays: initial sync ${initial.ms} ms (not timed)`)
    await child.reconcile() // warm-up, not timed
    const alone = await timeResyncs(child, kube, 'alone', log)
    const otherDocuments = await addOtherClusters(env, log)
    await child.reconcile() // warm again after idling, not timed
    const beside = await timeResyncs(child, kube, 'beside', log)
    const ratio = (a: number, b: number) => Math.round((a / Math.max(1, b)) * 100) / 100
    return {
      objects: initial.report.listed,
      otherClusters: OTHER_CLUSTERS,
      otherDocuments,
      changedObjects: beside.changed,
      alone: { unchangedMs: alone.unchangedMs, changedMs: alone.changedMs },
      beside: { unchangedMs: beside.unchangedMs, changedMs: beside.changedMs },
      unchangedRatio: ratio(beside.unchangedMs, alone.unchangedMs),
      changedRatio: ratio(beside.changedMs, alone.changedMs),
    }
  } finally {
    await child.exit()
    kube.close()
    await db.dropDatabase()
  }
}
