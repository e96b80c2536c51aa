import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb'
import { messageOf } from '../../errors.js'
import { classify } from '../../classify.js'
import type { WriteCounts, WriteOp } from '../writes/write-op.js'
import { boundedMessage, type Rejection, type RejectionKind } from '../writes/rejections.js'

/*
 * sync_dead_letters: one document per (cluster, resource, uid) whose last
 * write did not land, either refused by the server (a rejection) or failed
 * after every retry. It is bookkeeping, never the inventory: the next
 * reconcile lists the object again, writes it again, and the dead letter is
 * deleted once a write of that uid lands (or the object is gone).
 */

export const DEAD_LETTER_COLLECTION = 'sync_dead_letters'

export type DeadLetterSource = 'reconcile' | 'watch'

/**
 * A rejection's kind, `failed`: retries used up (or a fatal error) on the whole
 * chunk, or `invalid-object`: refused at the Kubernetes edge, never sent
 * (refused-objects.ts).
 */
export type DeadLetterKind = RejectionKind | 'failed' | 'invalid-object'

export interface DeadLetter {
  /** `<cluster>/<resource>/<uid>`. */
  _id: string
  cluster: string
  /** ResourceRef id, `v1/configmaps`. */
  resource: string
  uid: string
  /** null for cluster-scoped objects, and for deletes (which carry only the uid). */
  namespace: string | null
  name: string | null
  /** The version we tried to write (for a delete: the version it was gone at). */
  resourceVersion: string
  operation: WriteOp['type']
  kind: DeadLetterKind
  /** The server's message (or ours), redacted of credentials and bounded. */
  reason: string
  /** The server's error code; null when there was none (refused before sending, a network failure). */
  code: number | null
  /** Failures so far, this one included. */
  attempts: number
  firstFailedAt: Date
  lastFailedAt: Date
  source: DeadLetterSource
}

/** Why one operation failed, as stored. */
export interface DeadLetterFailure {
  readonly kind: DeadLetterKind
  readonly code: number | null
  readonly reason: string
}

/** Indexes besides `_id`: the per-resource load (cluster, resource) and prune (namespace). */
export const deadLetterIndexes = [
  { key: { cluster: 1, resource: 1, namespace: 1 }, name: 'cluster_resource_namespace' },
] as const

export function deadLettersOf(db: Db): Collection<DeadLetter> {
  return db.collection<DeadLetter>(DEAD_LETTER_COLLECTION)
}

export function deadLetterIdOf(cluster: string, resource: string, uid: string): string {
  return `${cluster}/${resource}/${uid}`
}

export function uidOfOp(op: WriteOp): string {
  return op.type === 'delete' ? op.uid : op.object.metadata.uid
}

export function failureOfRejection(rejection: Rejection): DeadLetterFailure {
  return { kind: rejection.kind, code: rejection.code, reason: rejection.message }
}

/** The numeric server code nearest the surface of an error's cause chain, if any. */
function serverCodeOf(error: unknown): number | null {
  let e: unknown = error
  for (let depth = 0; depth < 6 && e !== null && typeof e === 'object'; depth++) {
    const { name, code, cause } = e as { name?: unknown; code?: unknown; cause?: unknown }
    if (typeof name === 'string' && name.startsWith('Mongo') && typeof code === 'number')
      return code
    e = cause
  }
  return null
}

/** A chunk that failed for good: every operation it still had is recorded with this. */
export function failureOfError(error: unknown): DeadLetterFailure {
  return {
    kind: 'failed',
    code: serverCodeOf(error),
    reason: boundedMessage(`${classify(error).reason}: ${messageOf(error)}`),
  }
}

export interface DeadLetterScope {
  readonly cluster: string
  readonly resource: string
  readonly source: DeadLetterSource
}

/** Everything a dead letter says about one failed operation except the counters. */
export type DeadLetterFields = Omit<DeadLetter, 'attempts' | 'firstFailedAt'>

export function deadLetterFields(
  op: WriteOp,
  failure: DeadLetterFailure,
  scope: DeadLetterScope,
  now: Date,
): DeadLetterFields {
  const uid = uidOfOp(op)
  const metadata = op.type === 'delete' ? undefined : op.object.metadata
  return {
    _id: deadLetterIdOf(scope.cluster, scope.resource, uid),
    cluster: scope.cluster,
    resource: scope.resource,
    uid,
    namespace: metadata?.namespace ?? null,
    name: metadata?.name ?? null,
    resourceVersion:
      op.type === 'delete' ? op.deletedAtResourceVersion : op.object.metadata.resourceVersion,
    operation: op.type,
    kind: failure.kind,
    reason: failure.reason,
    code: failure.code,
    lastFailedAt: now,
    source: scope.source,
  }
}

/**
 * The upsert that records one failure: a first failure creates the dead
 * letter with attempts 1, a later one counts up and takes the new reason.
 */
export function recordFailureOp(fields: DeadLetterFields): AnyBulkWriteOperation<DeadLetter> {
  const { _id, namespace, name, ...rest } = fields
  // A delete knows only the uid: it keeps the namespace and name an earlier failure stored.
  const where = { namespace, name }
  const known = fields.operation === 'delete' ? {} : where
  const onInsert = fields.operation === 'delete' ? where : {}
  return {
    updateOne: {
      filter: { _id },
      update: {
        $set: { ...rest, ...known },
        $inc: { attempts: 1 },
        $setOnInsert: { firstFailedAt: rest.lastFailedAt, ...onInsert },
      },
      upsert: true,
    },
  }
}

/**
 * Statements per `update` command: FerretDB 1.x holds a pooled connection per
 * statement until the command ends (see NON_ATOMIC_UPDATE_SLICE in
 * writes/protocol/apply-chunk.ts), so a large failed chunk goes in slices.
 */
const RECORD_SLICE = 20

export async function recordFailures(
  collection: Collection<DeadLetter>,
  entries: readonly DeadLetterFields[],
): Promise<void> {
  for (let i = 0; i < entries.length; i += RECORD_SLICE)
    await collection.bulkWrite(entries.slice(i, i + RECORD_SLICE).map(recordFailureOp), {
      ordered: false,
    })
}

/** `$in` lists go in slices of this size, far below the 16 MB command limit. */
const CLEAR_SLICE = 1000

export async function clearDeadLetters(
  collection: Collection<DeadLetter>,
  ids: readonly string[],
): Promise<void> {
  for (let i = 0; i < ids.length; i += CLEAR_SLICE)
    await collection.deleteMany({ _id: { $in: ids.slice(i, i + CLEAR_SLICE) } })
}

export interface KnownDeadLetter {
  readonly namespace: string | null
  readonly attempts: number
}

/** uid -> (namespace, attempts) of the dead letters of one (cluster, resource). */
export async function loadDeadLetters(
  collection: Collection<DeadLetter>,
  cluster: string,
  resource: string,
): Promise<Map<string, KnownDeadLetter>> {
  const known = new Map<string, KnownDeadLetter>()
  const cursor = collection.find(
    { cluster, resource },
    { projection: { uid: 1, namespace: 1, attempts: 1 } },
  )
  for await (const d of cursor) known.set(d.uid, { namespace: d.namespace, attempts: d.attempts })
  return known
}

/** Operations a failed write stored as dead letters before it threw (ChunkedWriteError.counts). */
export function deadLetteredIn(error: unknown): number {
  const counts = (error as { counts?: Partial<WriteCounts> } | null)?.counts
  return counts?.deadLettered ?? 0
}
