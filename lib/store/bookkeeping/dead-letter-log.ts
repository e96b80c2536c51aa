import { messageOf } from '../../errors.js'
import { errorFields, logger } from '../../log.js'
import type { DeadLetterFields, DeadLetterSource } from './dead-letters.js'

/*
 * The log lines of the dead letters: one event per line, with the fields a
 * dead letter has, so a line can stand in for one MongoDB could not store.
 */

/** Why a dead letter was cleared: its uid was written or deleted, or a complete list no longer serves it. */
export type ClearedReason = 'written' | 'deleted' | 'not listed'

export function logCleared(
  resource: string,
  uid: string,
  reason: ClearedReason,
  source: DeadLetterSource,
): void {
  logger.info(`dead letter of ${resource} ${uid} cleared`, {
    event: 'deadletter.cleared',
    resource,
    uid,
    reason,
    source,
  })
}

export function logRecorded(entry: DeadLetterFields, attempts: number): void {
  logger.warn(`${entry.resource} ${entry.uid} dead-lettered: ${entry.reason}`, {
    event: 'deadletter.recorded',
    ...logFieldsOf(entry),
    attempts,
    source: entry.source,
  })
}

/** MongoDB could not take the dead letter either: this line is the only record left. */
export function logUnrecorded(entry: DeadLetterFields, recordError: unknown): void {
  logger.error(`dead letter of ${entry.resource} ${entry.uid} could not be stored`, {
    event: 'deadletter.unrecorded',
    ...logFieldsOf(entry),
    source: entry.source,
    ...errorFields(recordError),
  })
}

/** Not even the failed chunk's operations could be described (one line for the chunk). */
export function logChunkUndescribed(resource: string, error: unknown, recordError: unknown): void {
  logger.error(`could not describe the failed chunk of ${resource}`, {
    event: 'deadletter.unrecorded',
    resource,
    reason: messageOf(error),
    ...errorFields(recordError),
  })
}

export function logPruneFailed(resource: string, error: unknown): void {
  logger.warn(`could not prune the dead letters of ${resource}: ${messageOf(error)}`, {
    event: 'deadletter.prune-failed',
    resource,
    ...errorFields(error),
  })
}

/** What a log line says of a dead letter (recorded, or not storable). */
function logFieldsOf(e: DeadLetterFields) {
  return {
    resource: e.resource,
    uid: e.uid,
    namespace: e.namespace,
    name: e.name,
    resourceVersion: e.resourceVersion,
    operation: e.operation,
    kind: e.kind,
    reason: e.reason,
    code: e.code,
  }
}
