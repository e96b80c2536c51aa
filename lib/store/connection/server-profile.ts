import type { Db } from 'mongodb'

/**
 * What the server behind a Db can promise, learnt once per Db from buildInfo.
 * This is the one place that knows which server is which: everything that
 * works around the local stand-in (FerretDB 1.x) asks for a capability here,
 * never for the server's name, so MongoDB's behaviour is the design and the
 * stand-in's quirks are flags (docs/design.md#server-profile).
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
  /**
   * The server removes expired documents itself (a TTL index: `expireAfterSeconds`
   * on a Date field). FerretDB 1.x has no TTL indexes: there the store sweeps
   * expired bookkeeping itself (bookkeeping/expiry.ts).
   */
  readonly ttlIndexes: boolean
  readonly server: string
}

const profiles = new WeakMap<Db, Promise<ServerProfile>>()

async function detect(db: Db): Promise<ServerProfile> {
  const info = await db.command({ buildInfo: 1 })
  const ferret: unknown = info.ferretdbVersion
  if (typeof ferret === 'string')
    return {
      atomicConditionalWrites: false,
      readByIdOnly: true,
      ttlIndexes: false,
      server: `FerretDB ${ferret}`,
    }
  return {
    atomicConditionalWrites: true,
    readByIdOnly: false,
    ttlIndexes: true,
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
