import { MongoClient } from 'mongodb'

import { serverProfileOf } from '../../lib/store/connection/server-profile.js'
import type { StackEnv } from '../stack/env-file.js'
import { BENCH_RESOURCE, describeSettings, tunedSettings } from './configs.js'
import { lambdaNodeFlags } from './deployed-process.js'
import { runArm, type ArmFigures } from './history-arm.js'
import type { StoredBytes } from './history-bytes.js'
import { kubeHttp } from './kube-http.js'
import { ensureBenchObjects } from './seeding.js'
import { median, percentile } from './stats.js'

/*
 * Issue 19's performance figures: the watch-lag and churn figures of our sync
 * with history on for the churned resource (HISTORY_RESOURCES=v1/configmaps)
 * beside the same run with it off, on the same stack and seed; the history
 * documents written against the versions the watch observed; the bytes per
 * stored version beside an inventory document's. The arms alternate (off, on,
 * then on, off, ...) so that a drift of the stack over the run falls on both.
 * Figures only: nothing here asserts a time (the target is stated beside it).
 */

export interface HistoryBenchOptions {
  readonly objects: number
  readonly watchEvents: number
  readonly watchPerSecond: number
  /** Objects each changed `burstUpdates` times in a row in the watch window. */
  readonly burstObjects: number
  readonly burstUpdates: number
  /** Pairs of arms (off and on). */
  readonly rounds: number
  /** Lambda's heap flags for this memory (MB) in the sync children; 0: plain node. */
  readonly lambdaMemoryMb: number
  readonly log: (line: string) => void
}

export const P99_RATIO_TARGET = 1.2

interface LagFigure {
  measured: number
  missing: number
  lagP50Ms: number
  lagP99Ms: number
  lagMaxMs: number
}

interface ChurnFigure {
  changed: number
  reconcileMs: number
  writes: number
  historyWritten: number
}

export interface HistoryBenchResult {
  objects: number
  rounds: number
  resource: string
  server: string
  tuned: string
  nodeFlags: string
  watch: {
    eventsPerArm: number
    ratePerSecond: number
    off: LagFigure
    on: LagFigure
    p50Ratio: number
    p99Ratio: number
    /**
     * The geometric mean of the rounds' own p99 and p50 ratios: each round weighs the
     * same, and over an even number of rounds (the order alternates) an effect of going
     * first cancels. The pooled p99 above follows the single worst arm instead.
     */
    roundsP99Ratio: number
    roundsP50Ratio: number
    p99RatioTarget: number
    /** The pooled p99 ratio (every round's lags together) within the target. */
    p99WithinTarget: boolean
  }
  churn: { off: ChurnFigure; on: ChurnFigure; reconcileMsRatio: number }
  initialReconcileMs: { off: number; on: number }
  versions: {
    /** resourceVersions the bench created in the history-on watch windows (steady + burst). */
    observed: number
    /** Versions the watch reports counted as written to object_history. */
    historyWrittenReported: number
    /** object_history watch documents found for those versions, by `_id`. */
    historyDocuments: number
    missing: number
    extra: number
    incomplete: number
    equal: boolean
    burst: { objects: number; updatesEach: number }
  }
  bytes: {
    historyVersion: StoredBytes | null
    historyWatchModifiedVersion: StoredBytes | null
    inventoryDocumentOn: StoredBytes
    inventoryDocumentOff: StoredBytes
    method: string
  }
  perRound: RoundFigure[]
}

/** One round's two arms, side by side, with their own on/off ratios. */
export interface RoundFigure {
  order: string
  offP50Ms: number
  onP50Ms: number
  offP99Ms: number
  onP99Ms: number
  p50Ratio: number
  p99Ratio: number
}

const DB = { off: 'kmsbench_history_off', on: 'kmsbench_history_on' }

export async function historyBench(
  env: StackEnv,
  options: HistoryBenchOptions,
): Promise<HistoryBenchResult> {
  const { log } = options
  const mongoUri = env.MONGODB_URI!
  const kubeconfig = env.KUBECONFIG!
  const kube = await kubeHttp(kubeconfig)
  const mongo = await new MongoClient(mongoUri).connect()
  try {
    const seeded = await ensureBenchObjects(kube, options.objects, log)
    log(`seed: ${options.objects} ConfigMaps ready (${seeded.created} created, not timed)`)
    const server = (await serverProfileOf(mongo.db(DB.off))).server
    const nodeFlags = options.lambdaMemoryMb > 0 ? lambdaNodeFlags(options.lambdaMemoryMb) : []
    const arms: { off: ArmFigures[]; on: ArmFigures[] } = { off: [], on: [] }
    const perRound: HistoryBenchResult['perRound'] = []
    for (let round = 0; round < options.rounds; round++) {
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off']
      for (const arm of order) {
        const history = arm === 'on'
        const dbName = DB[arm]
        log(`round ${round + 1}/${options.rounds}: history ${arm}`)
        const setup = { ...options, history, mongo, mongoUri, kubeconfig, kube, dbName, nodeFlags }
        arms[arm].push(await runArm(setup))
      }
      perRound.push(roundFigure(order.join(','), arms.off[round], arms.on[round]))
      log(`round ${round + 1}: ${JSON.stringify(perRound[round])}`)
    }
    const result = summarize(options, arms, { server, nodeFlags: nodeFlags.join(' '), perRound })
    for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()
    return result
  } finally {
    kube.close()
    await mongo.close()
  }
}

function lagFigure(arms: readonly ArmFigures[]): LagFigure {
  const lags = arms.flatMap((a) => a.watch.lags)
  return {
    measured: lags.length,
    missing: arms.reduce((n, a) => n + a.watch.missing, 0),
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    lagMaxMs: lags.length ? Math.max(...lags) : Number.NaN,
  }
}

function churnFigure(arms: readonly ArmFigures[]): ChurnFigure {
  return {
    changed: median(arms.map((a) => a.churn.changed)),
    reconcileMs: median(arms.map((a) => a.churn.ms)),
    writes: median(arms.map((a) => a.churn.writes)),
    historyWritten: median(arms.map((a) => a.churn.historyWritten)),
  }
}

const ratio = (on: number, off: number) => Math.round((on / off) * 100) / 100

function geometricMean(ratios: readonly number[]): number {
  const logs = ratios.map(Math.log)
  return ratio(Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length), 1)
}

function roundFigure(order: string, off?: ArmFigures, on?: ArmFigures): RoundFigure {
  const at = (a: ArmFigures | undefined, p: number) => percentile(a?.watch.lags ?? [], p)
  const figure = {
    offP50Ms: at(off, 50),
    onP50Ms: at(on, 50),
    offP99Ms: at(off, 99),
    onP99Ms: at(on, 99),
  }
  return {
    order,
    ...figure,
    p50Ratio: ratio(figure.onP50Ms, figure.offP50Ms),
    p99Ratio: ratio(figure.onP99Ms, figure.offP99Ms),
  }
}

/** The history-on arms' versions: what the bench created in the watch windows against object_history. */
function versionsFigure(
  options: HistoryBenchOptions,
  on: readonly ArmFigures[],
): HistoryBenchResult['versions'] {
  const sum = (f: (a: ArmFigures) => number) => on.reduce((n, a) => n + f(a), 0)
  const observed = sum((a) => a.versions.length)
  const historyDocuments = sum((a) => a.recorded.matched)
  const missing = sum((a) => a.recorded.missing)
  const extra = sum((a) => a.recorded.extra)
  return {
    observed,
    historyWrittenReported: sum((a) => a.watch.historyWritten),
    historyDocuments,
    missing,
    extra,
    incomplete: sum((a) => a.watch.historyIncomplete),
    equal: missing === 0 && extra === 0 && historyDocuments === observed,
    burst: { objects: options.burstObjects, updatesEach: options.burstUpdates },
  }
}

function summarize(
  options: HistoryBenchOptions,
  arms: { off: ArmFigures[]; on: ArmFigures[] },
  extra: { server: string; nodeFlags: string; perRound: HistoryBenchResult['perRound'] },
): HistoryBenchResult {
  const off = lagFigure(arms.off)
  const on = lagFigure(arms.on)
  const churnOff = churnFigure(arms.off)
  const churnOn = churnFigure(arms.on)
  const last = arms.on[arms.on.length - 1]!
  const lastOff = arms.off[arms.off.length - 1]!
  const p99Ratio = ratio(on.lagP99Ms, off.lagP99Ms)
  return {
    objects: options.objects,
    rounds: options.rounds,
    resource: BENCH_RESOURCE,
    server: extra.server,
    tuned: describeSettings(tunedSettings),
    nodeFlags: extra.nodeFlags,
    watch: {
      eventsPerArm: options.watchEvents,
      ratePerSecond: options.watchPerSecond,
      off,
      on,
      p50Ratio: ratio(on.lagP50Ms, off.lagP50Ms),
      p99Ratio,
      roundsP99Ratio: geometricMean(extra.perRound.map((r) => r.onP99Ms / r.offP99Ms)),
      roundsP50Ratio: geometricMean(extra.perRound.map((r) => r.onP50Ms / r.offP50Ms)),
      p99RatioTarget: P99_RATIO_TARGET,
      p99WithinTarget: p99Ratio <= P99_RATIO_TARGET,
    },
    churn: {
      off: churnOff,
      on: churnOn,
      reconcileMsRatio: ratio(churnOn.reconcileMs, churnOff.reconcileMs),
    },
    initialReconcileMs: {
      off: median(arms.off.map((a) => a.initial.ms)),
      on: median(arms.on.map((a) => a.initial.ms)),
    },
    versions: versionsFigure(options, arms.on),
    bytes: {
      historyVersion: last.bytes.history,
      historyWatchModifiedVersion: last.bytes.historyWatchModified,
      inventoryDocumentOn: last.bytes.inventory,
      inventoryDocumentOff: lastOff.bytes.inventory,
      method:
        "client-side BSON.calculateObjectSize over every fetched document (serverMeanBytes: the server's $bsonSize, null where unsupported), last round's databases",
    },
    perRound: extra.perRound,
  }
}
