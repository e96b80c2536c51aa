import type { MongoClient } from 'mongodb'

import { collectionNameOf, parseResourceRef } from '../../lib/resource-ref.js'
import { historyOf } from '../../lib/store/history/history-collection.js'
import { historyIdOf } from '../../lib/store/history/history-document.js'
import { applyChurn } from './churn.js'
import { BENCH_CLUSTER, BENCH_RESOURCE, tunedSettings } from './configs.js'
import { makeBurstChanges } from './history-changes.js'
import { storedBytes, type StoredBytes } from './history-bytes.js'
import type { KubeHttp } from './kube-http.js'
import { listBenchObjects } from './seeding.js'
import { sleep } from './sleep.js'
import { startSyncChild } from './sync-child.js'
import { makeSteadyChanges, type MadeChange } from './watch-lag.js'

/*
 * One arm of the history bench (history-bench.ts): our sync on a fresh
 * database, with HISTORY_RESOURCES set to the churned resource or unset, run
 * as bench-once.ts runs it (same child, same tuned settings): the initial
 * reconcile, the 1% churn and its reconcile, then one watch window with the
 * steady changes whose lag is measured and a burst of repeated changes.
 */

export interface ArmSetup {
  readonly history: boolean
  readonly mongo: MongoClient
  readonly mongoUri: string
  readonly kubeconfig: string
  readonly kube: KubeHttp
  readonly dbName: string
  readonly objects: number
  readonly watchEvents: number
  readonly watchPerSecond: number
  readonly burstObjects: number
  readonly burstUpdates: number
  readonly nodeFlags: readonly string[]
  readonly log: (line: string) => void
}

export interface ArmFigures {
  readonly history: boolean
  readonly initial: { ms: number; writes: number; historyWritten: number }
  readonly churn: { changed: number; ms: number; writes: number; historyWritten: number }
  readonly watch: {
    readonly ms: number
    readonly events: number
    readonly historyWritten: number
    readonly historyIncomplete: number
    /** Milliseconds from each steady change's PATCH answer to its inventory write's acknowledgement. */
    readonly lags: number[]
    readonly missing: number
  }
  /** The resourceVersions the watch window's changes created (steady and burst). */
  readonly versions: readonly MadeChange[]
  readonly recorded: VersionsRecorded
  readonly bytes: ArmBytes
}

export interface VersionsRecorded {
  /** object_history documents from the watch (source "watch"). */
  readonly watchDocuments: number
  /** Versions created in the window with a history document. */
  readonly matched: number
  readonly missing: number
  /** Watch documents of a version the bench did not create (another ConfigMap's change). */
  readonly extra: number
}

export interface ArmBytes {
  readonly inventory: StoredBytes
  /** Every history version (reconcile and watch); null when history is off. */
  readonly history: StoredBytes | null
  /** The watch's MODIFIED versions only: the steady-state cost of a change. */
  readonly historyWatchModified: StoredBytes | null
}

const inventoryCollection = collectionNameOf(parseResourceRef(BENCH_RESOURCE)!)

export async function runArm(setup: ArmSetup): Promise<ArmFigures> {
  const { log, history } = setup
  const db = setup.mongo.db(setup.dbName)
  await db.dropDatabase()
  const settings: Record<string, string> = {
    ...tunedSettings,
    ...(history ? { HISTORY_RESOURCES: BENCH_RESOURCE } : {}),
  }
  const child = await startSyncChild(
    { mongoUri: setup.mongoUri, kubeconfig: setup.kubeconfig, dbName: setup.dbName, settings },
    { nodeFlags: setup.nodeFlags },
  )
  const arm = history ? 'history on' : 'history off'
  try {
    const initial = await child.reconcile()
    log(`${arm}: initial reconcile ${initial.ms} ms, ${initial.statements} writes`)
    const churn = await applyChurn(setup.kube, setup.objects)
    const churned = await child.reconcile()
    log(`${arm}: churn ${churn.changed} changed, reconcile ${churned.ms} ms`)
    const watch = await watchWindow(setup, child)
    log(
      `${arm}: watch ${watch.reply.report.events} events, ${watch.lags.length} lags, ${watch.missing} not written in the window`,
    )
    const recorded = await versionsRecorded(setup, watch.versions)
    return {
      history,
      initial: {
        ms: initial.ms,
        writes: initial.statements,
        historyWritten: initial.report.historyWritten,
      },
      churn: {
        changed: churn.changed,
        ms: churned.ms,
        writes: churned.statements,
        historyWritten: churned.report.historyWritten,
      },
      watch: {
        ms: watch.reply.ms,
        events: watch.reply.report.events,
        historyWritten: watch.reply.report.historyWritten,
        historyIncomplete: watch.reply.report.historyIncomplete,
        lags: watch.lags,
        missing: watch.missing,
      },
      versions: watch.versions,
      recorded,
      bytes: await armBytes(setup),
    }
  } finally {
    await child.exit()
  }
}

type Child = Awaited<ReturnType<typeof startSyncChild>>

/** As bench-once.ts: the window opens on the churn reconcile's checkpoint, changes start 3 s in. */
async function watchWindow(setup: ArmSetup, child: Child) {
  const targets = await listBenchObjects(setup.kube)
  if (targets.length < setup.watchEvents + setup.burstObjects)
    throw new Error(
      `history bench: ${targets.length} objects, fewer than ${setup.watchEvents} steady + ${setup.burstObjects} burst targets`,
    )
  const burstTargets = targets.slice(targets.length - setup.burstObjects)
  // The burst follows the steady changes; 12 s leave room for it and for the last writes.
  const windowSeconds = Math.ceil(setup.watchEvents / setup.watchPerSecond) + 12
  const watching = child.watch(windowSeconds)
  await sleep(3_000)
  const steady = await makeSteadyChanges(
    setup.kube,
    targets,
    setup.watchEvents,
    setup.watchPerSecond,
  )
  const burst = await makeBurstChanges(setup.kube, burstTargets, setup.burstUpdates)
  const reply = await watching
  const lags: number[] = []
  let missing = 0
  for (const change of steady) {
    const ack = reply.acks[`${BENCH_CLUSTER}/${change.uid}`]
    if (ack === undefined) missing++
    else lags.push(ack - change.returnedAt)
  }
  return { reply, lags, missing, versions: [...steady, ...burst] }
}

/** Which of the window's versions object_history holds (by `_id`, the contract's key). */
async function versionsRecorded(
  setup: ArmSetup,
  versions: readonly MadeChange[],
): Promise<VersionsRecorded> {
  const history = historyOf(setup.mongo.db(setup.dbName))
  const stored = new Set<string>()
  for await (const doc of history.find({ source: 'watch' }, { projection: { _id: 1 } }))
    stored.add(doc._id)
  const created = new Set(versions.map((v) => historyIdOf(BENCH_CLUSTER, v.uid, v.resourceVersion)))
  let matched = 0
  for (const id of created) if (stored.has(id)) matched++
  let extra = 0
  for (const id of stored) if (!created.has(id)) extra++
  return { watchDocuments: stored.size, matched, missing: created.size - matched, extra }
}

async function armBytes(setup: ArmSetup): Promise<ArmBytes> {
  const db = setup.mongo.db(setup.dbName)
  const inventory = await storedBytes(db.collection(inventoryCollection))
  if (!setup.history) return { inventory, history: null, historyWatchModified: null }
  const history = historyOf(db)
  return {
    inventory,
    history: await storedBytes(history),
    historyWatchModified: await storedBytes(history, { source: 'watch', type: 'MODIFIED' }),
  }
}
