import type { Collection, Document } from 'mongodb'

/** docs/design.md#indexes; named, so a rerun finds them by name. */
const inventoryIndexes = [
  { key: { cluster: 1, namespace: 1, name: 1 }, name: 'cluster_namespace_name' },
  { key: { cluster: 1, 'labels.key': 1, 'labels.value': 1 }, name: 'cluster_labels' },
] as const

export interface NamedIndex {
  readonly key: Readonly<Record<string, 1 | -1>>
  readonly name: string
}

const NAMESPACE_NOT_FOUND = 26

async function existingIndexNames<T extends Document>(
  collection: Collection<T>,
): Promise<Set<string>> {
  try {
    const indexes = await collection.listIndexes().toArray()
    return new Set(indexes.map((index) => String((index as { name?: unknown }).name)))
  } catch (error) {
    // A collection that does not exist yet has no indexes (MongoDB answers 26, FerretDB may too).
    if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return new Set()
    throw error
  }
}

/**
 * Creates whichever of the indexes is missing, one per command. createIndexes
 * is idempotent on MongoDB, but FerretDB 1.24 drops the connection (a server
 * panic) when one command re-creates several existing indexes; asking first
 * keeps every reconcile's call cheap and safe on both.
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: ReadonlyArray<NamedIndex> = inventoryIndexes,
): Promise<void> {
  const existing = await existingIndexNames(collection)
  for (const index of indexes) {
    if (existing.has(index.name)) continue
    await collection.createIndex({ ...index.key }, { name: index.name })
  }
}
