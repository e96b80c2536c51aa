import { MongoClient } from 'mongodb'

import { createKubeClient } from '../../lib/kube/client.js'
import { collectionNameOf, parseResourceRef } from '../../lib/resource-ref.js'
import { toDocument } from '../../lib/store/documents/mapper.js'
import { serverProfileOf } from '../../lib/store/connection/server-profile.js'
import type { StackEnv } from '../stack/env-file.js'
import { listBaseline, mappingFor, naiveSync, writeBaseline } from './baselines.js'
import { applyChurn } from './churn.js'
import {
  BENCH_CLUSTER,
  BENCH_RESOURCE,
  defaultSettings,
  describeSettings,
  tunedSettings,
} from './configs.js'
import { lambdaNodeFlags } from './deployed-process.js'
import { kubeHttp } from './kube-http.js'
import type { BenchOutcome } from './result.js'
import { ensureBenchObjects, listBenchObjects } from './seeding.js'
import { percentile } from './stats.js'
import { startSyncChild } from './sync-child.js'
import { makeSteadyChanges } from './watch-lag.js'
import { benchNamespaceResync } from './namespace-resync.js'
import { unguarded } from '../../lib/resilience/circuit-breaker.js'

export interface BenchOptions {
  readonly objects: number
  readonly watchEvents: number
  readonly watchPerSecond: number
  readonly cpuProfileDir?: string
  /** The naive first run stops here (it is quadratic on FerretDB); its time is then a lower bound. */
  readonly naiveCapMs: number
  /** Lambda's heap flags for this memory (MB) in the sync children; 0: plain node. */
  readonly lambdaMemoryMb: number
  readonly log: (line: string) => void
}

const DB = {
  naive: 'kmsbench_naive',
  write: 'kmsbench_write',
  tuned: 'kmsbench_sync',
  defaults: 'kmsbench_defaults',
}

/** One full bench at N objects: seed (untimed), baselines, our sync tuned and default, watch, memory. */
export async function benchOnce(env: StackEnv, options: BenchOptions): Promise<BenchOutcome> {
  const { objects, log } = options
  const mongoUri = env.MONGODB_URI!
  const kubeconfig = env.KUBECONFIG!
  const kube = await kubeHttp(kubeconfig)
  const mongo = await new MongoClient(mongoUri).connect()
  try {
    const seeded = await ensureBenchObjects(kube, objects, log)
    log(
      `seed: ${objects} ConfigMaps ready (${seeded.created} created, ${seeded.deleted} deleted, ${seeded.ms} ms, not timed)`,
    )
    for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()

    const client = createKubeClient(
      { kind: 'file', path: kubeconfig },
      { requestTimeoutMs: 120_000, guard: unguarded },
    )
    const resolved = await client.discover(parseResourceRef(BENCH_RESOURCE)!)
    const collectionName = collectionNameOf(resolved.ref)
    const pageSize = Number(tunedSettings.K8S_LIST_PAGE_SIZE)
    const server = (await serverProfileOf(mongo.db(DB.naive))).server

    const list = await listBaseline(client, resolved, pageSize)
    log(`baseline list: ${list.items} objects, ${list.pages} pages, ${list.ms} ms`)
    // The naive resync runs on what a complete naive first run leaves: every document, which
    // the insertMany baseline writes (FerretDB makes the naive first run quadratic: see the docs).
    const first = await client.listPage({ resolved, limit: 0 })
    const mapping = mappingFor(resolved, BENCH_CLUSTER)
    const objectBytes = first.items.reduce((n, o) => n + Buffer.byteLength(JSON.stringify(o)), 0)
    const documents = first.items.map((o) => toDocument(o, mapping))
    first.items.length = 0
    const write = await writeBaseline(mongo.db(DB.write), collectionName, documents)
    documents.length = 0
    log(`baseline insertMany: ${list.items} documents, ${write.ms} ms`)
    const naiveAgain = await naiveSync(
      client,
      resolved,
      mongo.db(DB.write),
      collectionName,
      BENCH_CLUSTER,
      options.naiveCapMs,
    )
    log(
      `baseline naive resync: ${naiveAgain.ms} ms, ${naiveAgain.writes} writes${naiveAgain.capped ? ' (stopped at the cap: a lower bound)' : ''}`,
    )
    await mongo.db(DB.write).dropDatabase()
    const naive = await naiveSync(
      client,
      resolved,
      mongo.db(DB.naive),
      collectionName,
      BENCH_CLUSTER,
      options.naiveCapMs,
    )
    log(
      `baseline naive sync: ${naive.ms} ms, ${naive.writes} writes${naive.capped ? ` (stopped at the ${options.naiveCapMs} ms cap: a lower bound)` : ''}`,
    )
    await mongo.db(DB.naive).dropDatabase()

    const nodeFlags = options.lambdaMemoryMb > 0 ? lambdaNodeFlags(options.lambdaMemoryMb) : []
    const tuned = await startSyncChild(
      { mongoUri, kubeconfig, dbName: DB.tuned, settings: { ...tunedSettings } },
      { nodeFlags, ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}) },
    )
    const initial = await tuned.reconcile()
    log(
      `sync initial: ${initial.ms} ms, ${initial.statements} writes (${initial.report.inserted} inserted)`,
    )
    const resync = await tuned.reconcile()
    log(`sync resync: ${resync.ms} ms, ${resync.statements} writes`)
    const churn = await applyChurn(kube, objects)
    const churned = await tuned.reconcile()
    log(
      `sync churn: ${churn.changed} changed (${churn.updated}/${churn.created}/${churn.deleted} updated/created/deleted): ${churned.ms} ms, ${churned.statements} writes`,
    )

    // Watch: the checkpoint is the churn reconcile's list version; changes start once the window is open.
    const targets = await listBenchObjects(kube)
    const windowSeconds = Math.ceil(options.watchEvents / options.watchPerSecond) + 8
    const watching = tuned.watch(windowSeconds)
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const changes = await makeSteadyChanges(
      kube,
      targets,
      options.watchEvents,
      options.watchPerSecond,
    )
    const watched = await watching
    const lags: number[] = []
    let missing = 0
    for (const change of changes) {
      const ack = watched.acks[`${BENCH_CLUSTER}/${change.uid}`]
      if (ack === undefined) missing++
      else lags.push(ack - change.returnedAt)
    }
    log(
      `watch: ${watched.report.events} events, ${lags.length} lags measured, ${missing} not written in the window`,
    )
    const memory = await tuned.exit()
    log(
      `memory (tuned sync process): peak RSS ${memory.peakRssMb} MB, heap ${memory.peakHeapMb} MB, live after full GC ${memory.peakLiveHeapMb} MB`,
    )

    const defaults = await startSyncChild(
      { mongoUri, kubeconfig, dbName: DB.defaults, settings: { ...defaultSettings } },
      { nodeFlags },
    )
    const dInitial = await defaults.reconcile()
    log(`defaults initial: ${dInitial.ms} ms`)
    const dResync = await defaults.reconcile()
    log(`defaults resync: ${dResync.ms} ms, ${dResync.statements} writes`)
    const defaultsMemory = await defaults.exit()
    for (const name of [DB.tuned, DB.defaults]) await mongo.db(name).dropDatabase()
    const namespaceResync = await benchNamespaceResync(env, mongo, {
      objects,
      collectionName,
      nodeFlags,
      log,
    })

    const r = churned.report
    return {
      result: {
        objects,
        baseline: {
          listMs: list.ms,
          writeMs: write.ms,
          naiveSyncMs: naive.ms,
          naiveResyncMs: naiveAgain.ms,
          naiveResyncWrites: naiveAgain.writes,
        },
        sync: {
          initialMs: initial.ms,
          initialWrites: initial.statements,
          resyncMs: resync.ms,
          resyncWrites: resync.statements,
          churnChanged: churn.changed,
          churnMs: churned.ms,
          churnWrites: churned.statements,
        },
        syncDefaults: { initialMs: dInitial.ms, resyncMs: dResync.ms },
        watch: {
          events: watched.report.events,
          lagP50Ms: percentile(lags, 50),
          lagP99Ms: percentile(lags, 99),
        },
        memory: { peakRssMb: memory.peakRssMb, peakHeapMb: memory.peakHeapMb },
        namespaceResync,
      },
      extras: {
        tuned: describeSettings(tunedSettings),
        defaults: describeSettings(defaultSettings),
        server,
        nodeFlags: nodeFlags.join(' '),
        lambdaMemoryMb: options.lambdaMemoryMb,
        liveHeapMb: memory.peakLiveHeapMb,
        objectBytes,
        listPages: list.pages,
        naiveCapped: naive.capped,
        naiveResyncCapped: naiveAgain.capped,
        naiveCappedWrites: naive.writes,
        watchMissing: missing,
        watchMaxMs: lags.length ? Math.max(...lags) : Number.NaN,
        defaultsMemory,
        reportCounts: {
          initial: `${initial.report.inserted} inserted, ${initial.report.listed} listed`,
          resync: `${resync.report.unchanged} unchanged`,
          churn: `${r.inserted} inserted, ${r.updated} updated, ${r.deleted} deleted`,
        },
      },
    }
  } finally {
    kube.close()
    await mongo.close()
  }
}
