import { BSON } from 'mongodb'
import { messageOf } from '../../errors.js'
import { isTransient } from '../../classify.js'
import { redactText } from '../../redact.js'
import { isDuplicateKeyError, writeErrorsOf } from '../connection/driver-errors.js'
import type { InventoryDocument } from '../documents/mapper.js'

/*
 * A rejection is the server's (or our own) final "no" to ONE document: a
 * unique index a user added, a document over the size limit, a key the server
 * refuses, a validator. Repeating the same write cannot help, and it says
 * nothing about the other documents of the chunk, which are written anyway;
 * the rejected one becomes a dead letter (dead-letters.ts) and the next
 * reconcile tries it again. Network, timeout and failover errors are never
 * rejections: they stay the retry loop's business.
 */

export type RejectionKind =
  'duplicate-key' | 'too-large' | 'invalid-document' | 'validation-failed' | 'mapping'

export interface Rejection {
  readonly kind: RejectionKind
  /** The server's error code; null when the document was refused before sending. */
  readonly code: number | null
  /** What the server (or the mapper) said, redacted and bounded. */
  readonly message: string
}

/** MongoDB's maxBsonObjectSize: the largest document any server of the family stores. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

/** Longest message kept in a dead letter: a server's message can quote a whole key. */
const MAX_MESSAGE_LENGTH = 1000

/** Server codes that refuse one document, whatever the rest of the command did. */
const rejectionCodes = new Map<number, RejectionKind>([
  [2, 'invalid-document'], // BadValue: FerretDB's "invalid key", and other refused values
  [52, 'invalid-document'], // DollarPrefixedFieldName
  [56, 'invalid-document'], // EmptyFieldName
  [57, 'invalid-document'], // DottedFieldName
  [121, 'validation-failed'], // DocumentValidationFailure: a $jsonSchema validator
  [10334, 'too-large'], // BSONObjectTooLarge
  [17419, 'too-large'], // the document after the update is over 16 MB
  [17280, 'invalid-document'], // KeyTooLong: an index key over 1024 bytes (MongoDB < 4.2)
  [11000, 'duplicate-key'],
  [11001, 'duplicate-key'],
])

/**
 * FerretDB 1.x (SQLite) answers a unique-index violation inside `update`
 * with InternalError (1) and SQLite's message, not 11000 (its `insert` does
 * say 11000).
 */
const FERRET_INTERNAL_ERROR = 1
const sqliteUniqueViolation = /UNIQUE constraint failed/

export function boundedMessage(text: string): string {
  const redacted = redactText(text)
  return redacted.length > MAX_MESSAGE_LENGTH
    ? `${redacted.slice(0, MAX_MESSAGE_LENGTH)}...`
    : redacted
}

function messageOfWriteError(error: { errmsg?: unknown; message?: unknown }): string {
  if (typeof error.errmsg === 'string') return error.errmsg
  return typeof error.message === 'string' ? error.message : messageOf(error)
}

/**
 * The rejection an error (a thrown server error, or one entry of a bulk
 * write's `writeErrors`) stands for; undefined when it is anything else
 * (transient, credentials, an unknown failure), which the caller throws on.
 */
export function rejectionOf(error: unknown): Rejection | undefined {
  if (error === null || typeof error !== 'object') return undefined
  if (isTransient(error)) return undefined
  const e = error as { code?: unknown; errmsg?: unknown; message?: unknown }
  if (typeof e.code !== 'number') return undefined
  const text = messageOfWriteError(e)
  let kind = rejectionCodes.get(e.code)
  if (e.code === FERRET_INTERNAL_ERROR && sqliteUniqueViolation.test(text)) kind = 'duplicate-key'
  if (kind === undefined) return undefined
  return { kind, code: e.code, message: boundedMessage(text) }
}

function isRejection(error: unknown): boolean {
  return rejectionOf(error) !== undefined
}

/** A document refused before it is sent: the mapper threw on it. */
function mappingRejection(error: unknown): Rejection {
  return {
    kind: 'mapping',
    code: null,
    message: boundedMessage(`could not map the object to a document: ${messageOf(error)}`),
  }
}

/**
 * A document over the BSON limit is refused before it is sent: the driver
 * would otherwise fail the whole insertMany or bulkWrite it is part of
 * (MongoInvalidArgumentError), taking the rest of the chunk down with it.
 */
function sizeRejection(doc: InventoryDocument): Rejection | undefined {
  const bytes = BSON.calculateObjectSize(doc)
  if (bytes <= MAX_DOCUMENT_BYTES) return undefined
  return {
    kind: 'too-large',
    code: null,
    message: `document of ${bytes} bytes is over the ${MAX_DOCUMENT_BYTES}-byte BSON limit`,
  }
}

/** The document for an object, or why it cannot be sent at all. */
export function buildDocument(
  build: () => InventoryDocument,
): { doc: InventoryDocument } | { rejection: Rejection } {
  let doc: InventoryDocument
  try {
    doc = build()
  } catch (error) {
    return { rejection: mappingRejection(error) }
  }
  const rejection = sizeRejection(doc)
  return rejection ? { rejection } : { doc }
}

/**
 * Where a duplicate key error says which index it hit: MongoDB gives
 * `keyPattern` and names the index in the message; FerretDB says neither.
 * true: `_id` (the uid was stored meanwhile, a race the slow path settles);
 * false: another unique index (a rejection); undefined: not said.
 */
export function duplicateIsOnId(error: unknown): boolean | undefined {
  const e = error as {
    keyPattern?: unknown
    err?: { keyPattern?: unknown }
    errmsg?: unknown
    message?: unknown
  } | null
  const pattern = e?.keyPattern ?? e?.err?.keyPattern
  if (pattern !== null && typeof pattern === 'object') {
    const keys = Object.keys(pattern)
    return keys.length === 1 && keys[0] === '_id'
  }
  const index = /\bindex: (\S+)/.exec(messageOfWriteError(e ?? {}))?.[1]
  if (index === undefined) return undefined
  return index === '_id_'
}

export interface SortedWriteErrors {
  /** Positions whose duplicate key is (or may be) on `_id`: the caller settles them. */
  readonly duplicates: number[]
  /** Positions the server refused for good. */
  readonly rejected: Map<number, Rejection>
}

/**
 * Sorts the per-document errors of an unordered insert. A duplicate whose
 * index is not named (FerretDB) goes to the slow path like a race on `_id`:
 * it reads the uid first, and only an insert that collides again while the
 * uid is absent is a rejection (see insertUnlessTombstoned). Reading here
 * would cost a round trip per document in the common case, a retried chunk
 * whose first reply was lost. Anything that is neither a duplicate nor a
 * rejection (a transient error on one document, an error without
 * per-document detail) is thrown for the retry loop.
 */
export function sortInsertErrors(error: unknown): SortedWriteErrors {
  const writeErrors = writeErrorsOf(error) ?? []
  if (writeErrors.length === 0) throw error
  const duplicates: number[] = []
  const rejected = new Map<number, Rejection>()
  for (const w of writeErrors) {
    if (isDuplicateKeyError(w) && duplicateIsOnId(w) !== false) {
      duplicates.push(w.index)
      continue
    }
    const rejection = rejectionOf(w)
    if (!rejection) throw error
    rejected.set(w.index, rejection)
  }
  return { duplicates, rejected }
}

/**
 * After a bulk write of `items` failed: hands each refused item to `reject`
 * and makes sure every other one is written, returning how many of those
 * matched. MongoDB reports per-statement errors and applies the rest, so the
 * matched count of its result stands. FerretDB's `update` stops at its first
 * failing statement without saying which, so every item is written again
 * alone (idempotent: the same document under the same guard). Anything that
 * is not a rejection is thrown for the retry loop.
 */
export async function writeAroundRejections<T>(
  error: unknown,
  items: readonly T[],
  writeOne: (item: T) => Promise<number>,
  reject: (item: T, rejection: Rejection) => void,
): Promise<number> {
  const writeErrors = writeErrorsOf(error) ?? []
  if (writeErrors.length > 0) {
    const refused = writeErrors.map((w) => [w.index, rejectionOf(w)] as const)
    if (refused.some(([, r]) => r === undefined)) throw error
    for (const [index, rejection] of refused) reject(items[index]!, rejection!)
    const result = (error as { result?: { matchedCount?: unknown } }).result
    return typeof result?.matchedCount === 'number' ? result.matchedCount : 0
  }
  if (!isRejection(error)) throw error
  let matched = 0
  for (const item of items) {
    try {
      matched += await writeOne(item)
    } catch (one) {
      const rejection = rejectionOf(one)
      if (!rejection) throw one
      reject(item, rejection)
    }
  }
  return matched
}
