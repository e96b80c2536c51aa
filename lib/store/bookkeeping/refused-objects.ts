import type { Db } from 'mongodb'
import type { RefusedObject } from '../../kube/types.js'
import { logger } from '../../log.js'
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
  for (const e of entries) {
    logger.warn(`${e.resource} ${e.uid} dead-lettered: ${e.reason}`, {
      event: 'deadletter.recorded',
      resource: e.resource,
      uid: e.uid,
      namespace: e.namespace,
      name: e.name,
      resourceVersion: e.resourceVersion,
      operation: e.operation,
      kind: e.kind,
      reason: e.reason,
      source: e.source,
    })
  }
  return entries.length
}
