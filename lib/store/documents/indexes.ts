import type { Collection, Document } from 'mongodb'

/** docs/design.md#indexes; named, so a rerun finds them by name. */
const inventoryIndexes = [
  { key: { cluster: 1, namespace: 1, name: 1 }, name: 'cluster_namespace_name' },
  { key: { cluster: 1, 'labels.key': 1, 'labels.value': 1 }, name: 'cluster_labels' },
] as const

export interface NamedIndex {
  readonly key: Readonly<Record<string, 1 | -1>>
  readonly name: string
  /** A TTL index: the server deletes a document this long after the Date in its one key field. */
  readonly expireAfterSeconds?: number
}

const NAMESPACE_NOT_FOUND = 26

/** name -> its expireAfterSeconds (undefined when not a TTL index). */
async function existingIndexes<T extends Document>(
  collection: Collection<T>,
): Promise<Map<string, number | undefined>> {
  try {
    const indexes = await collection.listIndexes().toArray()
    return new Map(
      indexes.map((index) => {
        const { name, expireAfterSeconds } = index as {
          name?: unknown
          expireAfterSeconds?: unknown
        }
        return [
          String(name),
          typeof expireAfterSeconds === 'number' ? expireAfterSeconds : undefined,
        ]
      }),
    )
  } catch (error) {
    // A collection that does not exist yet has no indexes (MongoDB answers 26, FerretDB may too).
    if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return new Map()
    throw error
  }
}

/**
 * Creates whichever of the indexes is missing, one per command. createIndexes
 * is idempotent on MongoDB, but FerretDB 1.24 drops the connection (a server
 * panic) when one command re-creates several existing indexes; asking first
 * keeps every reconcile's call cheap and safe on both. A TTL index whose
 * period was changed (a setting) is dropped and created again with the new one.
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: ReadonlyArray<NamedIndex> = inventoryIndexes,
): Promise<void> {
  const existing = await existingIndexes(collection)
  for (const index of indexes) {
    if (existing.has(index.name)) {
      if (existing.get(index.name) === index.expireAfterSeconds) continue
      await collection.dropIndex(index.name)
    }
    const ttl = index.expireAfterSeconds
    await collection.createIndex(
      { ...index.key },
      ttl === undefined ? { name: index.name } : { name: index.name, expireAfterSeconds: ttl },
    )
  }
}
