import type { AnyBulkWriteOperation, Db, MongoClient } from 'mongodb'

import type { InventoryDocument } from '../../lib/store/documents/mapper.js'
import type { StackEnv } from '../stack/env-file.js'
import { BENCH_CLUSTER, tunedSettings } from './configs.js'
import { benchNamespaces } from './fixtures.js'
import { inTurns, type Arm } from './in-turns.js'
import { median, ratio } from './stats.js'
import { startSyncChild } from './sync-child.js'

/*
 * A manual resync of some namespaces should cost what their objects cost,
 * whatever else the collection holds (docs/design.md#indexes): the same
 * namespaced resync of the bench's objects (every bench namespace, so exactly
 * `objects` of them) in two databases side by side, one holding only them and
 * one beside OTHER_CLUSTERS times as many documents of other clusters, each
 * in its own warm process, timed in turns (in-turns.ts says why).
 */

/** Other clusters' documents per bench object: 15,000 beside 5,000. */
export const OTHER_CLUSTERS = 3

const DB: Record<Arm, string> = {
  alone: 'kmsbench_namespaces_alone',
  beside: 'kmsbench_namespaces_beside',
}
/** Namespaced resyncs of each, in turns; the medians are compared. */
const PAIRS = 5
const INSERT_BATCH = 1000

export interface NamespaceResyncFigure {
  /** Objects in the resynced namespaces. */
  objects: number
  /** Other clusters' documents in the collection for the second timing. */
  otherDocuments: number
  /** Medians of PAIRS resyncs each. */
  aloneMs: number
  besideMs: number
  /** Each pair's beside / alone, in the order timed. */
  pairRatios: number[]
  /** besideMs / aloneMs (target <= 1.5). */
  ratio: number
}

/**
 * Copies every bench document under OTHER_CLUSTERS other cluster names (same
 * uids, so other `_id`s), straight into the collection: another deployment's
 * inventory, as far as this one can tell.
 */
async function addOtherClusters(db: Db, collectionName: string): Promise<number> {
  const collection = db.collection<InventoryDocument>(collectionName)
  let batch: InventoryDocument[] = []
  let inserted = 0
  const flush = async () => {
    if (batch.length === 0) return
    await collection.bulkWrite(
      batch.map((document): AnyBulkWriteOperation<InventoryDocument> => ({
        insertOne: { document },
      })),
      { ordered: false },
    )
    inserted += batch.length
    batch = []
  }
  for await (const doc of collection.find({ cluster: BENCH_CLUSTER })) {
    for (let k = 1; k <= OTHER_CLUSTERS; k++) {
      const cluster = `${BENCH_CLUSTER}-other-${k}`
      batch.push({ ...doc, _id: `${cluster}/${doc.uid}`, cluster })
      if (batch.length >= INSERT_BATCH) await flush()
    }
  }
  await flush()
  return inserted
}

export async function benchNamespaceResync(
  env: StackEnv,
  mongo: MongoClient,
  options: {
    readonly objects: number
    readonly collectionName: string
    readonly nodeFlags: readonly string[]
    readonly log: (line: string) => void
  },
): Promise<NamespaceResyncFigure> {
  const { log } = options
  for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()
  const childOf = (dbName: string) =>
    startSyncChild(
      { mongoUri: env.MONGODB_URI!, kubeconfig: env.KUBECONFIG!, dbName, settings: tunedSettings },
      { nodeFlags: options.nodeFlags },
    )
  const children = { alone: await childOf(DB.alone), beside: await childOf(DB.beside) }
  try {
    const namespaces = benchNamespaces()
    const initial = await children.alone.reconcile()
    await children.beside.reconcile()
    log(`namespace resync: initial syncs ${initial.ms} ms (not timed)`)
    const otherDocuments = await addOtherClusters(mongo.db(DB.beside), options.collectionName)
    log(`namespace resync: ${otherDocuments} documents of other clusters added (not timed)`)
    const resync = (arm: Arm) => async () => {
      const run = await children[arm].reconcile(namespaces)
      if (run.statements > 0) throw new Error(`namespace resync ${arm}: ${run.statements} writes`)
      return run
    }
    const run = { alone: resync('alone'), beside: resync('beside') }
    // One untimed pair first, so that both are timed on a warm process.
    await inTurns(1, run)
    const timed = await inTurns(PAIRS, run)
    const ms = (arm: Arm) => timed[arm].map((r) => r.ms)
    log(`namespace resync alone: ${ms('alone').join('/')} ms; beside: ${ms('beside').join('/')} ms`)
    const [aloneMs, besideMs] = [median(ms('alone')), median(ms('beside'))]
    return {
      objects: timed.alone[0]!.report.listed,
      otherDocuments,
      aloneMs,
      besideMs,
      pairRatios: ms('alone').map((a, i) => ratio(ms('beside')[i]!, a)),
      ratio: ratio(besideMs, aloneMs),
    }
  } finally {
    await children.alone.exit()
    await children.beside.exit()
    for (const name of Object.values(DB)) await mongo.db(name).dropDatabase()
  }
}
