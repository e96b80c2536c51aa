/**
 * The read side of `object_history` (docs/history.md, the contract in issue 19):
 * one document per observed version of an object, written insert-only by the
 * watch and reconcile functions. Only what the queries read is typed here; the
 * writer owns the collection (lib/store/history/).
 */
import type { Operation } from 'fast-json-patch'

export const HISTORY_COLLECTION = 'object_history'

export type HistoryEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface HistoryVersion {
  /** `<cluster>/<uid>/<resourceVersion>`: a replayed event inserts nothing new. */
  readonly _id: string
  readonly cluster: string
  /** The resource id as in SYNC_RESOURCES: `v1/configmaps`, `apps/v1/deployments`. */
  readonly resource: string
  readonly apiVersion: string
  readonly kind: string
  /** null for a cluster-scoped object. */
  readonly namespace: string | null
  readonly name: string
  readonly uid: string
  readonly resourceVersion: string
  readonly type: HistoryEventType
  readonly observedAt: Date
  readonly source: 'watch' | 'reconcile'
  /** false: versions before this one may be missing (reconcile, relist, outage, first sight). */
  readonly complete: boolean
  /** Encoded and redacted exactly like the inventory document's object (key-encoding.ts). */
  readonly object: Record<string, unknown>
  /** RFC 6902, from the previous recorded version of this uid; [] for the first. Encoded paths and values. */
  readonly patch: readonly Operation[]
}

/** One object by name: the equality prefix of the contract's first index. */
export interface ObjectKey {
  readonly cluster: string
  readonly resource: string
  /** null (or undefined) for a cluster-scoped object. */
  readonly namespace: string | null
  readonly name: string
}
