import { BSON, type Collection, type Document, type Filter } from 'mongodb'

/*
 * Bytes per stored document of one collection (history versions, inventory
 * documents), for the history bench. The server's own figure comes from
 * `$bsonSize` where the server has it (MongoDB 4.4+; FerretDB 1.x refuses the
 * operator); the client-side figure, the BSON size of each fetched document
 * (mongodb's BSON.calculateObjectSize), is computed on every server, so the
 * two servers' figures compare.
 */

export interface StoredBytes {
  readonly documents: number
  /** Mean BSON bytes per document, computed client-side over the fetched documents. */
  readonly meanBytes: number
  readonly minBytes: number
  readonly maxBytes: number
  /** Mean of the server's `$bsonSize`; null where the server lacks the operator. */
  readonly serverMeanBytes: number | null
}

/** Sizes of the documents matching `filter`, fetched in one cursor. */
export async function storedBytes<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T> = {},
): Promise<StoredBytes> {
  let documents = 0
  let total = 0
  let min = Number.POSITIVE_INFINITY
  let max = 0
  for await (const doc of collection.find(filter)) {
    const size = BSON.calculateObjectSize(doc)
    documents++
    total += size
    min = Math.min(min, size)
    max = Math.max(max, size)
  }
  return {
    documents,
    meanBytes: documents ? Math.round(total / documents) : 0,
    minBytes: documents ? min : 0,
    maxBytes: max,
    serverMeanBytes: await serverMean(collection, filter),
  }
}

async function serverMean<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T>,
): Promise<number | null> {
  try {
    const [row] = await collection
      .aggregate<{ n: number; bytes: number }>([
        { $match: filter },
        { $group: { _id: null, n: { $sum: 1 }, bytes: { $sum: { $bsonSize: '$$ROOT' } } } },
      ])
      .toArray()
    return row && row.n > 0 ? Math.round(row.bytes / row.n) : null
  } catch {
    // FerretDB 1.x: "$bsonSize" is not implemented; the client-side figure stands.
    return null
  }
}
