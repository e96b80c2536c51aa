import type { Db } from 'mongodb'

/**
 * What the server behind a Db can promise, learnt once per Db from buildInfo.
 *
 * `atomicConditionalWrites`: an update or delete whose filter tests more than
 * `_id` (our compare-and-swap on resourceVersion) is matched and applied
 * atomically. True for MongoDB. FerretDB 1.x (SQLite) matches and writes
 * outside one transaction (FerretDB#3040), and it pushes only a bare `{_id}`
 * filter down to its index: `{_id, resourceVersion}` scans the whole
 * collection, about 0.25 s per statement at 5,000 documents. There the guard
 * is the read that precedes every write, and a write is filtered by `_id`
 * alone; writers of one resource are serialised by its lease in any case.
 */
export interface ServerProfile {
  readonly atomicConditionalWrites: boolean
  /**
   * Only a bare `{_id: value}` filter uses the `_id` index (FerretDB 1.x):
   * looking up 10 ids one by one then beats one `$in`, which scans everything.
   */
  readonly readByIdOnly: boolean
  readonly server: string
}

const profiles = new WeakMap<Db, Promise<ServerProfile>>()

async function detect(db: Db): Promise<ServerProfile> {
  const info = await db.command({ buildInfo: 1 })
  const ferret: unknown = info.ferretdbVersion
  if (typeof ferret === 'string')
    return { atomicConditionalWrites: false, readByIdOnly: true, server: `FerretDB ${ferret}` }
  return {
    atomicConditionalWrites: true,
    readByIdOnly: false,
    server: `MongoDB ${String(info.version)}`,
  }
}

export function serverProfileOf(db: Db): Promise<ServerProfile> {
  let profile = profiles.get(db)
  if (!profile) {
    profile = detect(db)
    // A failed look-up (network) is not cached: the next write asks again.
    profile.catch(() => profiles.delete(db))
    profiles.set(db, profile)
  }
  return profile
}
