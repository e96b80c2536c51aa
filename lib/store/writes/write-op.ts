import type { KubeObject } from '../../kube/types.js'

/**
 * A change to apply. `expectedResourceVersion` is the version the caller saw
 * stored (from the version index): the write is a compare-and-swap on it, so a
 * concurrent newer write is never overwritten by an older one.
 */
export type WriteOp =
  | { readonly type: 'insert'; readonly object: KubeObject }
  | {
      readonly type: 'replace'
      readonly object: KubeObject
      readonly expectedResourceVersion: string
    }
  | {
      readonly type: 'delete'
      readonly uid: string
      /** RV stored when the caller decided to delete; undefined = whatever is stored. */
      readonly expectedResourceVersion?: string
      /** RV at which the object is known gone (watch DELETED event RV or list RV); written to the tombstone. */
      readonly deletedAtResourceVersion: string
    }
  /** From a watch event: upsert if newer than stored (RV compared per docs/design.md, invariant 3). */
  | { readonly type: 'upsert'; readonly object: KubeObject }

export interface WriteCounts {
  inserted: number
  updated: number
  deleted: number
  /** Operations skipped because the stored document was already as new or newer, or tombstoned. */
  skippedByGuard: number
  retriedChunks: number
  /** Chunks that failed for good (retries used up, a fatal error, or an open breaker). */
  failedChunks: number
  /** Times adaptive pacing slowed the writes down (MongoDB slow or failing). */
  pacingSlowdowns: number
  /** Operations stored in sync_dead_letters instead (dead-letters.ts). */
  deadLettered: number
}

export function emptyCounts(): WriteCounts {
  return {
    inserted: 0,
    updated: 0,
    deleted: 0,
    skippedByGuard: 0,
    retriedChunks: 0,
    failedChunks: 0,
    pacingSlowdowns: 0,
    deadLettered: 0,
  }
}

export function addCounts(into: WriteCounts, from: WriteCounts): void {
  into.inserted += from.inserted
  into.updated += from.updated
  into.deleted += from.deleted
  into.skippedByGuard += from.skippedByGuard
  into.retriedChunks += from.retriedChunks
  into.failedChunks += from.failedChunks
  into.pacingSlowdowns += from.pacingSlowdowns
  into.deadLettered += from.deadLettered
}
