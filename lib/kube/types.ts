import type { ResourceRef } from '../resource-ref.js'

/** A Kubernetes object as served (the parts the sync reads are typed). */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    uid: string
    name: string
    namespace?: string
    resourceVersion: string
    labels?: Record<string, string>
    managedFields?: unknown[]
    [key: string]: unknown
  }
  [key: string]: unknown
}

/** What discovery tells about a resource. */
export interface ResolvedResource {
  readonly ref: ResourceRef
  readonly kind: string
  readonly namespaced: boolean
  /** `v1` or `apps/v1`. */
  readonly apiVersion: string
}

/** One page of a list, as the pager hands it on. */
export interface ListPage {
  readonly items: readonly KubeObject[]
  /** 1-based page number within this list pass. */
  readonly page: number
  /** resourceVersion of the list (the same on every page of a consistent list). */
  readonly listResourceVersion: string
  /**
   * False once the pager had to follow an inconsistent continue token after a
   * 410: the pass is then not a consistent snapshot, and must not delete.
   */
  readonly consistent: boolean
  /** Set when this page restarts the list (after a 410 on a continue token): discard earlier pages' "seen" sets. */
  readonly restarted: boolean
  /** The namespace this page was listed in, when the pass lists chosen namespaces one by one. */
  readonly namespace?: string
  /** Items of this page refused at the edge (served-object.ts), to dead-letter; absent = none. */
  readonly refused?: readonly RefusedObject[]
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'

export interface WatchEvent {
  readonly type: WatchEventType
  readonly object: KubeObject
}

/** An object the edge refused (served-object.ts): what can safely be said about it, and why. */
export interface RefusedObject {
  /**
   * Its uid when that is usable, else `invalid:<sha256 of the object, 32 hex>`:
   * what its dead letter is keyed by, and what the list counts as seen (so a
   * refused object's stored document is never deleted on its account).
   */
  readonly key: string
  /** Whichever of these were usable strings, for the dead letter. */
  readonly uid?: string
  readonly name?: string
  readonly namespace?: string
  readonly resourceVersion?: string
  /** Every problem found, e.g. `metadata.uid missing or not a non-empty string`. */
  readonly reason: string
  /** Served as a watch DELETED event. */
  readonly deleted?: true
}
