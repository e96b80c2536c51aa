import type { AnyBulkWriteOperation, Db, MongoClient } from 'mongodb'

import type { InventoryDocument } from '../../lib/store/documents/mapper.js'
import type { StackEnv } from '../stack/env-file.js'
import { BENCH_CLUSTER, tunedSettings } from './configs.js'
import { benchNamespaces } from './fixtures.js'
import { startSyncChild } from './sync-child.js'

/*
 * A manual resync of some namespaces should cost what their objects cost,
 * whatever else the collection holds (docs/design.md#indexes): the same
 * namespaced resync of the bench's objects (every bench namespace, so exactly
 * `objects` of them), timed once with the collection holding only them and
 * once beside OTHER_CLUSTERS times as many documents of other clusters.
 */

/** Other clusters' documents per bench object: 15,000 beside 5,000. */
export const OTHER_CLUSTERS = 3

const DB_NAME = 'kmsbench_namespaces'
const INSERT_BATCH = 1000

export interface NamespaceResyncFigure {
  /** Objects in the resynced namespaces. */
  objects: number
  /** Other clusters' documents in the collection for the second timing. */
  otherDocuments: number
  aloneMs: number
  besideMs: number
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
  const db = mongo.db(DB_NAME)
  await db.dropDatabase()
  const child = await startSyncChild(
    {
      mongoUri: env.MONGODB_URI!,
      kubeconfig: env.KUBECONFIG!,
      dbName: DB_NAME,
      settings: { ...tunedSettings },
    },
    { nodeFlags: options.nodeFlags },
  )
  try {
    const namespaces = benchNamespaces()
    const initial = await child.reconcile()
    log(`namespace resync: initial sync ${initial.ms} ms (not timed)`)
    // One untimed namespaced resync first, so both timings run on a warm process.
    const warm = await child.reconcile(namespaces)
    log(`namespace resync: warm-up ${warm.ms} ms (not timed)`)
    const alone = await child.reconcile(namespaces)
    log(
      `namespace resync alone: ${alone.ms} ms, ${alone.report.listed} listed, ${alone.statements} writes`,
    )
    const otherDocuments = await addOtherClusters(db, options.collectionName)
    log(`namespace resync: ${otherDocuments} documents of other clusters added (not timed)`)
    const beside = await child.reconcile(namespaces)
    log(
      `namespace resync beside them: ${beside.ms} ms, ${beside.report.listed} listed, ${beside.statements} writes`,
    )
    return {
      objects: alone.report.listed,
      otherDocuments,
      aloneMs: alone.ms,
      besideMs: beside.ms,
      ratio: Math.round((beside.ms / Math.max(1, alone.ms)) * 100) / 100,
    }
  } finally {
    await child.exit()
    await db.dropDatabase()
  }
}
