import { randomUUID } from 'node:crypto'
import type { Collection, Db } from 'mongodb'

/*
 * A snapshot of one resource's version index (uid -> resourceVersion), kept
 * where reading every stored document is slow: FerretDB 1.x decodes whole
 * documents whatever the projection, so loading the index of 20,000 ConfigMaps
 * from their collection costs ten times the list it is compared with. The
 * snapshot is a few compact documents read by `_id`.
 *
 * It is trusted only while nothing has written the resource since it was
 * taken: every writer first stamps the resource with a fresh write token
 * (stampWrites), and a snapshot is valid only under the token current when it
 * was saved. A crash between the stamp and the save leaves the snapshot
 * invalid, so the next reconcile reads the collection as before. Writers of
 * one resource hold its lease, so no stamp can slip between another writer's
 * stamp and save.
 */

export const VERSION_SNAPSHOT_COLLECTION = 'sync_version_snapshots'

/**
 * One part holds at most this many characters of encoded pairs (about 18k
 * entries): parts are encoded and saved one at a time, so saving the index of
 * 100k objects holds about a megabyte beside it, not the whole encoding.
 */
const SNAPSHOT_PART_CHARS = 1_000_000

interface TokenDocument {
  _id: string
  token: string
}

interface PartDocument {
  _id: string
  /** The write token the snapshot was taken under. */
  token: string
  /** How many parts make up the snapshot (part 0; 0 on the others). */
  parts: number
  /** JSON array `[uid, rv, uid, rv, ...]`. */
  pairs: string
}

type SnapshotDocument = TokenDocument | PartDocument

function snapshotsOf(db: Db): Collection<SnapshotDocument> {
  return db.collection<SnapshotDocument>(VERSION_SNAPSHOT_COLLECTION)
}

const tokenIdOf = (scope: string) => `${scope}#token`
const partIdOf = (scope: string, part: number) => `${scope}#${part}`

/** Encodes the index as JSON parts of at most `partChars` characters each (at least one part), one at a time. */
function* versionParts(
  versions: ReadonlyMap<string, string>,
  partChars = SNAPSHOT_PART_CHARS,
): Generator<string, void, undefined> {
  let current = ''
  for (const [uid, rv] of versions) {
    const pair = `${JSON.stringify(uid)},${JSON.stringify(rv)}`
    if (current !== '' && current.length + pair.length + 3 > partChars) {
      yield `[${current}]`
      current = ''
    }
    current = current === '' ? pair : `${current},${pair}`
  }
  yield `[${current}]`
}

/** All of versionParts at once. */
export function encodeVersionParts(
  versions: ReadonlyMap<string, string>,
  partChars = SNAPSHOT_PART_CHARS,
): string[] {
  return [...versionParts(versions, partChars)]
}

/** The inverse of encodeVersionParts. */
export function decodeVersionParts(parts: readonly string[]): Map<string, string> {
  const versions = new Map<string, string>()
  for (const part of parts) {
    const flat = JSON.parse(part) as unknown
    if (!Array.isArray(flat) || flat.length % 2 !== 0)
      throw new Error('version snapshot part is not an array of uid, resourceVersion pairs')
    for (let i = 0; i < flat.length; i += 2) versions.set(String(flat[i]), String(flat[i + 1]))
  }
  return versions
}

/**
 * Marks the resource as written from now on: any snapshot taken before is no
 * longer valid. Returns the new token, under which this writer may save one.
 */
export async function stampWrites(db: Db, scope: string): Promise<string> {
  const token = randomUUID()
  await snapshotsOf(db).replaceOne({ _id: tokenIdOf(scope) }, { token }, { upsert: true })
  return token
}

/** The snapshot, when it was taken under the current write token; otherwise undefined. */
export async function loadVersionSnapshot(
  db: Db,
  scope: string,
): Promise<Map<string, string> | undefined> {
  const snapshots = snapshotsOf(db)
  const [token, head] = await Promise.all([
    snapshots.findOne({ _id: tokenIdOf(scope) }) as Promise<TokenDocument | null>,
    snapshots.findOne({ _id: partIdOf(scope, 0) }) as Promise<PartDocument | null>,
  ])
  if (!token || !head || head.token !== token.token) return undefined
  const rest = await Promise.all(
    Array.from(
      { length: head.parts - 1 },
      (_, i) => snapshots.findOne({ _id: partIdOf(scope, i + 1) }) as Promise<PartDocument | null>,
    ),
  )
  // A part from another save (an interrupted one) means the set is not whole.
  if (rest.some((part) => part?.token !== head.token)) return undefined
  return decodeVersionParts([head.pairs, ...rest.map((part) => part!.pairs)])
}

/**
 * Saves the index under `token` (from stampWrites), one part at a time. Part 0
 * is written last: it names the token and the part count, so a save cut short
 * is never read as whole.
 */
export async function saveVersionSnapshot(
  db: Db,
  scope: string,
  token: string,
  versions: ReadonlyMap<string, string>,
): Promise<void> {
  const snapshots = snapshotsOf(db)
  const save = (index: number, pairs: string, parts: number) => {
    const part: PartDocument = { _id: partIdOf(scope, index), token, parts, pairs }
    return snapshots.replaceOne({ _id: part._id }, part, { upsert: true })
  }
  let head: string | undefined
  let count = 0
  for (const pairs of versionParts(versions)) {
    if (head === undefined) head = pairs
    else await save(count, pairs, 0)
    count++
  }
  await save(0, head ?? '[]', count)
}
