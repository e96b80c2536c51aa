import type { Db } from 'mongodb'

import type { KubeClient } from '../../lib/kube/client.js'
import type { KubeObject, ResolvedResource } from '../../lib/kube/types.js'
import { toDocument, type MappingContext } from '../../lib/store/documents/mapper.js'
import { ensureIndexes } from '../../lib/store/documents/indexes.js'
import type { InventoryDocument } from '../../lib/store/documents/mapper.js'

/*
 * The baselines, run in the same process run as our sync on the same data:
 * the API server's own list speed, the database's own insert speed, and the
 * implementation users write first.
 */

/**
 * Statements per naive bulk write. The largest FerretDB 1.24 (SQLite) survives:
 * its `update` handler keeps one pooled SQLite connection per statement until
 * the command ends, and its pool has 100, so a command of about 100 replaces
 * or more deadlocks the server (see docs/benchmarks.md).
 */
export const NAIVE_CHUNK = 80

export const mappingFor = (resolved: ResolvedResource, cluster: string): MappingContext => ({
  cluster,
  apiVersion: resolved.apiVersion,
  kind: resolved.kind,
  secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
})

/** listMs: the paginated list of every object through our client, items discarded. */
export async function listBaseline(
  client: KubeClient,
  resolved: ResolvedResource,
  pageSize: number,
): Promise<{ ms: number; items: number; pages: number }> {
  const t0 = performance.now()
  let items = 0
  let pages = 0
  let continueToken: string | undefined
  do {
    const page = await client.listPage({ resolved, limit: pageSize, continueToken })
    items += page.items.length
    pages++
    continueToken = page.metadata.continue || undefined
  } while (continueToken)
  return { ms: Math.round(performance.now() - t0), items, pages }
}

/**
 * writeMs: one unordered insertMany of the mapped documents into an empty
 * collection; the driver cuts it at the server's limits (maxWriteBatchSize,
 * maxMessageSizeBytes). The collection is left filled: the naive resync runs on it.
 */
export async function writeBaseline(
  db: Db,
  collectionName: string,
  documents: readonly InventoryDocument[],
): Promise<{ ms: number }> {
  await db.dropDatabase()
  const collection = db.collection<InventoryDocument>(collectionName)
  // The same indexes our sync keeps, so both pay for the same index maintenance.
  await ensureIndexes(collection)
  const copies = documents.map((d) => ({ ...d }))
  const t0 = performance.now()
  await collection.insertMany(copies, { ordered: false })
  return { ms: Math.round(performance.now() - t0) }
}

export interface NaiveRun {
  readonly ms: number
  readonly writes: number
  readonly objects: readonly KubeObject[]
  /** Set when the run stopped at `capMs` before writing every object: `ms` is then a lower bound. */
  readonly capped: boolean
}

/**
 * The obvious implementation: one unpaginated list (limit=0), then a
 * replace-upsert of every object by `_id`, chunk after chunk, on every run.
 */
export async function naiveSync(
  client: KubeClient,
  resolved: ResolvedResource,
  db: Db,
  collectionName: string,
  cluster: string,
  capMs = Number.POSITIVE_INFINITY,
): Promise<NaiveRun> {
  const collection = db.collection<InventoryDocument>(collectionName)
  const t0 = performance.now()
  await ensureIndexes(collection)
  const list = await client.listPage({ resolved, limit: 0 })
  const mapping = mappingFor(resolved, cluster)
  const now = new Date()
  let writes = 0
  let capped = false
  for (let i = 0; i < list.items.length; i += NAIVE_CHUNK) {
    if (performance.now() - t0 > capMs) {
      capped = true
      break
    }
    const docs = list.items.slice(i, i + NAIVE_CHUNK).map((o) => toDocument(o, mapping, now))
    await collection.bulkWrite(
      docs.map((doc) => ({
        replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
      })),
      { ordered: false },
    )
    writes += docs.length
  }
  return { ms: Math.round(performance.now() - t0), writes, objects: list.items, capped }
}
