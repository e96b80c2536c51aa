import { randomUUID } from 'node:crypto'
import type { Collection, Db } from 'mongodb'

/*
 * A snapshot of one resource's version index (uid -> resourceVersion, and
 * each uid's namespace), kept where only `_id` look-ups are cheap (ServerProfile
 * readByIdOnly: FerretDB 1.x scans and decodes the whole collection for any
 * other filter, whatever the projection, and whatever the cluster or namespace
 * asked for). Everything here is read and written by `_id` alone, so its cost
 * follows the resource's own objects, never the collection's other clusters.
 * docs/design.md#bookkeeping-collections
 *
 *  - `<scope>#token`: the write token `{token, saved, journal, journaled}`. A
 *    snapshot is valid only under the token it was saved with. Its absence
 *    means the sync has never written the resource: the index is empty.
 *  - `<scope>#0`, `#1`, ...: the snapshot's parts (`token`, `parts` on part 0,
 *    `entries`: JSON `[uid, rv, namespace, ...]`).
 *  - `<scope>#journal#0`, `#1`, ...: one per write call since the snapshot
 *    (`token`, `uids`): the uids each write was about to change, appended
 *    before the write is sent. A load reads those uids back by `_id`, so a
 *    write leaves the snapshot usable instead of voiding it. `journal` on the
 *    token counts them.
 *
 * Writers of one resource hold its lease, so nothing slips between one
 * writer's journal entry and its write.
 */

export const VERSION_SNAPSHOT_COLLECTION = 'sync_version_snapshots'

/**
 * One part holds at most this many characters of encoded entries (about 12k
 * entries): parts are encoded and saved one at a time, so saving the index of
 * 100k objects holds about a megabyte beside it, not the whole encoding.
 */
const SNAPSHOT_PART_CHARS = 1_000_000

/** A namespace not known when the entry was saved (the load reads the document to learn it). */
const UNKNOWN_NAMESPACE = 0

export interface TokenDocument {
  _id: string
  token: string
  /** Journal entries under this token (absent: none). */
  journal?: number
  /** uids in those entries, to bound them. */
  journaled?: number
  /** A whole snapshot was saved under this token (set after its last part). */
  saved?: boolean
  /** When the saved snapshot's contents were last read from the collection itself. */
  readAt?: Date
}

interface PartDocument {
  _id: string
  /** The write token the snapshot was taken under. */
  token: string
  /** How many parts make up the snapshot (part 0; 0 on the others). */
  parts: number
  /** JSON array `[uid, rv, namespace, ...]`; namespace null when cluster-scoped, 0 when unknown. */
  entries: string
}

interface JournalDocument {
  _id: string
  token: string
  /** JSON array of uids. */
  uids: string
}

type SnapshotDocument = TokenDocument | PartDocument | JournalDocument

function snapshotsOf(db: Db): Collection<SnapshotDocument> {
  return db.collection<SnapshotDocument>(VERSION_SNAPSHOT_COLLECTION)
}

const tokenIdOf = (scope: string) => `${scope}#token`
const partIdOf = (scope: string, part: number) => `${scope}#${part}`
const journalIdOf = (scope: string, entry: number) => `${scope}#journal#${entry}`

/** uid -> namespace (null: cluster-scoped); a uid not in it has no known namespace. */
export type NamespaceIndex = ReadonlyMap<string, string | null>

/** What a snapshot holds. */
export interface VersionSnapshot {
  readonly versions: Map<string, string>
  readonly namespaces: Map<string, string | null>
}

/** Encodes the index as JSON parts of at most `partChars` characters each (at least one part), one at a time. */
function* versionParts(
  versions: ReadonlyMap<string, string>,
  namespaces: NamespaceIndex,
  partChars = SNAPSHOT_PART_CHARS,
): Generator<string, void, undefined> {
  let current = ''
  for (const [uid, rv] of versions) {
    const ns = namespaces.has(uid) ? namespaces.get(uid)! : UNKNOWN_NAMESPACE
    const entry = `${JSON.stringify(uid)},${JSON.stringify(rv)},${JSON.stringify(ns)}`
    if (current !== '' && current.length + entry.length + 3 > partChars) {
      yield `[${current}]`
      current = ''
    }
    current = current === '' ? entry : `${current},${entry}`
  }
  yield `[${current}]`
}

/** All of versionParts at once. */
export function encodeVersionParts(
  versions: ReadonlyMap<string, string>,
  namespaces: NamespaceIndex,
  partChars = SNAPSHOT_PART_CHARS,
): string[] {
  return [...versionParts(versions, namespaces, partChars)]
}

/** The inverse of encodeVersionParts (a uid of unknown namespace is left out of `namespaces`). */
export function decodeVersionParts(parts: readonly string[]): VersionSnapshot {
  const versions = new Map<string, string>()
  const namespaces = new Map<string, string | null>()
  for (const part of parts) {
    const flat = JSON.parse(part) as unknown
    if (!Array.isArray(flat) || flat.length % 3 !== 0)
      throw new Error(
        'version snapshot part is not an array of uid, resourceVersion, namespace triples',
      )
    for (let i = 0; i < flat.length; i += 3) {
      const uid = String(flat[i])
      versions.set(uid, String(flat[i + 1]))
      const ns: unknown = flat[i + 2]
      if (ns === null || typeof ns === 'string') namespaces.set(uid, ns)
    }
  }
  return { versions, namespaces }
}

/** The token document; undefined when the sync never wrote the resource. */
export async function readToken(db: Db, scope: string): Promise<TokenDocument | undefined> {
  const token = await snapshotsOf(db).findOne<TokenDocument>({ _id: tokenIdOf(scope) })
  return token ?? undefined
}

/**
 * Voids any snapshot and journal: a fresh token, no journal. Loads then read
 * the collection until the next save. Returns the new token.
 */
export async function stampWrites(db: Db, scope: string): Promise<TokenDocument> {
  const token: TokenDocument = { _id: tokenIdOf(scope), token: randomUUID(), journal: 0 }
  await snapshotsOf(db).replaceOne({ _id: token._id }, token, { upsert: true })
  return token
}

/**
 * Appends the uids a write is about to change to the journal of `token` and
 * returns the token as it now stands. The entry is written before the count
 * that makes it read, and both before the write itself, so a crash anywhere
 * leaves at worst an entry for a write that never happened (read back
 * harmlessly).
 */
export async function appendJournal(
  db: Db,
  scope: string,
  token: TokenDocument,
  uids: readonly string[],
): Promise<TokenDocument> {
  const snapshots = snapshotsOf(db)
  const entry = token.journal ?? 0
  const doc: JournalDocument = {
    _id: journalIdOf(scope, entry),
    token: token.token,
    uids: JSON.stringify(uids),
  }
  await snapshots.replaceOne({ _id: doc._id }, doc, { upsert: true })
  const next: TokenDocument = {
    ...token,
    journal: entry + 1,
    journaled: (token.journaled ?? 0) + uids.length,
  }
  await snapshots.replaceOne({ _id: next._id }, next, { upsert: true })
  return next
}

/** A snapshot as stored: valid under `token`, with the uids written since. */
export interface StoredSnapshot extends VersionSnapshot {
  /** uids the journal says were written since the snapshot: their entries may be stale. */
  readonly journaled: Set<string>
}

/** The snapshot and its journal, when taken under `token` and whole; otherwise undefined. */
export async function loadVersionSnapshot(
  db: Db,
  scope: string,
  token: TokenDocument,
): Promise<StoredSnapshot | undefined> {
  const snapshots = snapshotsOf(db)
  if (!token.saved) return undefined
  const head = (await snapshots.findOne({ _id: partIdOf(scope, 0) })) as PartDocument | null
  // A head of the older pairs format (no `entries`) is not trusted either: the collection is read once.
  if (head?.token !== token.token || typeof head.entries !== 'string') return undefined
  const byId = <T>(id: string) => snapshots.findOne({ _id: id }) as Promise<T | null>
  const [rest, journal] = await Promise.all([
    Promise.all(
      Array.from({ length: head.parts - 1 }, (_, i) => byId<PartDocument>(partIdOf(scope, i + 1))),
    ),
    Promise.all(
      Array.from({ length: token.journal ?? 0 }, (_, i) =>
        byId<JournalDocument>(journalIdOf(scope, i)),
      ),
    ),
  ])
  // A part or entry from another save (an interrupted one) means the set is not whole.
  if (rest.some((part) => part?.token !== head.token)) return undefined
  if (journal.some((entry) => entry?.token !== head.token)) return undefined
  const snapshot = decodeVersionParts([head.entries, ...rest.map((part) => part!.entries)])
  const journaled = new Set<string>()
  for (const entry of journal)
    for (const uid of JSON.parse(entry!.uids) as unknown[]) journaled.add(String(uid))
  return { ...snapshot, journaled }
}

/**
 * Saves the index under a fresh token, one part at a time, and returns that
 * token. The token comes first (voiding the old snapshot and journal), part 0
 * last: it names the token and the part count, so a save cut short is never
 * read as whole. Then the parts and journal entries the new snapshot does not
 * use are deleted, so the collection holds one snapshot's worth per resource
 * whatever the index was before.
 */
export async function saveVersionSnapshot(
  db: Db,
  scope: string,
  versions: ReadonlyMap<string, string>,
  namespaces: NamespaceIndex,
  previous: TokenDocument | undefined,
  readAt: Date,
): Promise<TokenDocument> {
  const snapshots = snapshotsOf(db)
  const token = await stampWrites(db, scope)
  const save = (index: number, entries: string, parts: number) => {
    const part: PartDocument = { _id: partIdOf(scope, index), token: token.token, parts, entries }
    return snapshots.replaceOne({ _id: part._id }, part, { upsert: true })
  }
  let head: string | undefined
  let count = 0
  for (const entries of versionParts(versions, namespaces)) {
    if (head === undefined) head = entries
    else await save(count, entries, 0)
    count++
  }
  await save(0, head ?? '[]', count)
  const saved: TokenDocument = { ...token, saved: true, readAt }
  await snapshots.replaceOne({ _id: saved._id }, saved, { upsert: true })
  await deleteRun(snapshots, (i) => partIdOf(scope, i), count)
  await deleteRun(snapshots, (i) => journalIdOf(scope, i), 0, previous?.journal)
  return saved
}

/**
 * Deletes `idOf(from)`, `idOf(from + 1)`, ... by `_id` until one is missing
 * (and at least up to `atLeastTo`). Parts and journal entries are always
 * written from 0 upwards without a gap, so the first missing one ends what
 * any earlier save, whole or interrupted, left behind.
 */
async function deleteRun(
  snapshots: Collection<SnapshotDocument>,
  idOf: (index: number) => string,
  from: number,
  atLeastTo = 0,
): Promise<void> {
  for (let i = from; ; i++) {
    const { deletedCount } = await snapshots.deleteOne({ _id: idOf(i) })
    if (deletedCount === 0 && i >= atLeastTo) return
  }
}
