import type { MongoClient } from 'mongodb'

import type { StackEnv } from '../stack/env-file.js'
import { tunedSettings } from './configs.js'
import { inTurns, type Arm } from './in-turns.js'
import { inParallel, kubeHttp, type KubeHttp } from './kube-http.js'
import { ensureBenchObjects, listBenchObjects, SEED_CONCURRENCY } from './seeding.js'
import { median, ratio } from './stats.js'
import { startSyncChild, type SyncChild } from './sync-child.js'

/*
 * "Every cluster pays only for itself" (issue 18): one cluster's full
 * reconcile of PAYS_OBJECTS objects, nothing changed and then 10% changed, in
 * two databases side by side: `alone` holds only its documents, `beside` also
 * ten other clusters' (real reconciles of the same API server under other
 * CLUSTER_NAMEs: their documents, snapshots and sync state in the same
 * collections, 10 x PAYS_OBJECTS more). The two are timed in turns, the
 * order alternating, each in its own warm process (sync-child.ts: the
 * deployed bundle): a resync of 5,000 objects takes a few hundred ms, and the
 * API server's and the machine's drift over minutes is as large as the effect
 * measured, so timing one phase after the other measured the drift. The
 * target is beside / alone <= 1.5.
 */

export const PAYS_OBJECTS = 5000
export const OTHER_CLUSTERS = 10
const DB: Record<Arm, string> = {
  alone: 'kmsbench_fleet_pays_alone',
  beside: 'kmsbench_fleet_pays_beside',
}
const CLUSTER = 'pays-self'
/** Nothing-changed resyncs of each, in turns; the medians are compared. */
const PAIRS = 7
/** Changed resyncs of each (a tenth of the objects changed before each pair). */
const CHANGED_PAIRS = 2

export interface ResyncTimes {
  /** The median of the nothing-changed resyncs. */
  unchangedMs: number
  /** Its run's MongoDB command time (durations summed): the part the other clusters could slow. */
  unchangedMongoMs: number
  /** The mean of the changed resyncs. */
  changedMs: number
}

export interface PaysFigure {
  objects: number
  otherClusters: number
  otherDocuments: number
  changedObjects: number
  alone: ResyncTimes
  beside: ResyncTimes
  /** Each pair's beside / alone, nothing changed, in the order timed. */
  pairRatios: number[]
  /** beside / alone, target <= 1.5. */
  unchangedRatio: number
  changedRatio: number
}

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

function setup(env: StackEnv, cluster: string, dbName: string) {
  return {
    mongoUri: env.MONGODB_URI!,
    kubeconfig: env.KUBECONFIG!,
    dbName,
    settings: { ...tunedSettings, CLUSTER_NAME: cluster },
  }
}

/**
 * Ten other clusters' real reconciles into the `beside` database: same
 * objects, other names, other `_id`s. Returns the documents they wrote (their
 * reports: counting the collection would scan it on FerretDB).
 */
async function addOtherClusters(env: StackEnv, log: (l: string) => void): Promise<number> {
  let documents = 0
  for (let k = 1; k <= OTHER_CLUSTERS; k++) {
    const other = await startSyncChild(setup(env, `pays-other-${k}`, DB.beside))
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

/** One arm's resync, checked: a nothing-changed one writes nothing, a changed one writes. */
function resyncOf(child: SyncChild, arm: Arm, expectWrites: boolean) {
  return async () => {
    const run = await child.reconcile()
    const wrote = run.report.updated + run.report.inserted + run.report.deleted > 0
    if (wrote !== expectWrites)
      throw new Error(`fleet pays ${arm}: unexpected writes: ${JSON.stringify(run.report)}`)
    return { ms: run.ms, mongoMs: run.mongoMs }
  }
}

function resyncs(children: Record<Arm, SyncChild>, expectWrites: boolean) {
  return {
    alone: resyncOf(children.alone, 'alone', expectWrites),
    beside: resyncOf(children.beside, 'beside', expectWrites),
  }
}

export async function benchPays(
  env: StackEnv,
  mongo: MongoClient,
  log: (line: string) => void,
): Promise<PaysFigure> {
  for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()
  const kube = await kubeHttp(env.KUBECONFIG!)
  const children = {
    alone: await startSyncChild(setup(env, CLUSTER, DB.alone)),
    beside: await startSyncChild(setup(env, CLUSTER, DB.beside)),
  }
  try {
    const seeded = await ensureBenchObjects(kube, PAYS_OBJECTS, log)
    log(`fleet pays: ${PAYS_OBJECTS} ConfigMaps ready (${seeded.ms} ms, not timed)`)
    const otherDocuments = await addOtherClusters(env, log)
    const initial = await children.alone.reconcile()
    await children.beside.reconcile()
    log(`fleet pays: initial syncs done (not timed)`)
    await inTurns(1, resyncs(children, false)) // warm-up, not timed
    const unchanged = await inTurns(PAIRS, resyncs(children, false))
    let changedObjects = 0
    const changed = await inTurns(CHANGED_PAIRS, resyncs(children, true), async () => {
      changedObjects = await changeTenth(kube)
    })
    const times = (arm: Arm): ResyncTimes => {
      const ms = unchanged[arm].map((r) => r.ms)
      const middle = ms.indexOf(median(ms))
      const changedMs = changed[arm].map((r) => r.ms)
      log(
        `fleet pays ${arm}: unchanged ${ms.join('/')} ms (MongoDB ${unchanged[arm].map((r) => r.mongoMs).join('/')} ms), ${changedObjects} changed ${changedMs.join('/')} ms`,
      )
      return {
        unchangedMs: ms[middle]!,
        unchangedMongoMs: unchanged[arm][middle]!.mongoMs,
        changedMs: Math.round(changedMs.reduce((a, b) => a + b, 0) / changedMs.length),
      }
    }
    const alone = times('alone')
    const beside = times('beside')
    return {
      objects: initial.report.listed,
      otherClusters: OTHER_CLUSTERS,
      otherDocuments,
      changedObjects,
      alone,
      beside,
      pairRatios: unchanged.alone.map((a, i) => ratio(unchanged.beside[i]!.ms, a.ms)),
      unchangedRatio: ratio(beside.unchangedMs, alone.unchangedMs),
      changedRatio: ratio(beside.changedMs, alone.changedMs),
    }
  } finally {
    await children.alone.exit()
    await children.beside.exit()
    kube.close()
    for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()
  }
}
