import type { Db } from 'mongodb'
import type { RefusedObject } from '../../kube/types.js'
import { logRecorded } from './dead-letter-log.js'
import { boundedMessage } from '../writes/rejections.js'
import {
  deadLetterIdOf,
  deadLettersOf,
  recordFailures,
  type DeadLetterFields,
  type DeadLetterScope,
} from './dead-letters.js'

/*
 * Objects the Kubernetes edge refused (lib/kube/served-object.ts: no usable
 * uid, name or resourceVersion) become dead letters like a write the server
 * refused: kind `invalid-object`, keyed by the uid when it was usable, else by
 * a hash of the served object. They are never written to the inventory; the
 * next reconcile lists them again.
 */

export function refusedFields(
  refused: RefusedObject,
  scope: DeadLetterScope,
  now: Date,
): DeadLetterFields {
  return {
    _id: deadLetterIdOf(scope.cluster, scope.resource, refused.key),
    cluster: scope.cluster,
    resource: scope.resource,
    uid: refused.key,
    namespace: refused.namespace ?? null,
    name: refused.name ?? null,
    resourceVersion: refused.resourceVersion ?? '',
    operation: refused.deleted ? 'delete' : 'upsert',
    kind: 'invalid-object',
    reason: boundedMessage(`refused at the edge: ${refused.reason}`),
    code: null,
    lastFailedAt: now,
    source: scope.source,
  }
}

/** Stores one dead letter per refused object (one upsert each: attempts count up). Returns how many. */
export async function recordRefused(
  db: Db,
  scope: DeadLetterScope,
  refused: readonly RefusedObject[],
  now: Date = new Date(),
): Promise<number> {
  if (refused.length === 0) return 0
  const entries = refused.map((r) => refusedFields(r, scope, now))
  await recordFailures(deadLettersOf(db), entries)
  // Refused at the edge: never sent, so the first and only attempt.
  for (const e of entries) logRecorded(e, 1)
  return entries.length
}
