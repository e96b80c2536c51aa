import type { ResourceRef } from '../resource-ref.js'
import type { KubeObject, RefusedObject, ResolvedResource, WatchEvent } from './types.js'

/*
 * The small function types the pager, the watcher and the orchestration
 * depend on (client-go's pager takes a ListPageFunc, not a client). The real
 * ones come from createKubeClient() in client.ts; tests pass fakes that
 * enforce the API server's rules.
 */

/** One `GET <resource>?limit=..&continue=..` request. */
export interface ListPageRequest {
  readonly resolved: ResolvedResource
  /** Only for namespaced resources; absent = all namespaces. */
  readonly namespace?: string
  readonly limit: number
  /**
   * The server rejects `resourceVersion` together with `continue` (400): a
   * continue token already pins the list's resourceVersion.
   */
  readonly continueToken?: string
  /** Unset or '' = the latest state, read from etcd (a consistent list). */
  readonly resourceVersion?: string
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan'
  readonly signal?: AbortSignal
  /** K8S_LIST_PAGE_MAX_BYTES: a body over it throws KubeResponseTooLargeError; unset = no cap. */
  readonly maxBytes?: number
  /** Ask for PartialObjectMetadata (SECRET_MODE=metadata): items carry metadata only. */
  readonly metadataOnly?: boolean
}

/** A list response as served (only what the sync reads is typed), its items checked at the edge. */
export interface RawList {
  /** Every item with a usable uid, name and resourceVersion (served-object.ts). */
  readonly items: KubeObject[]
  /** The items refused at the edge, for the sync to dead-letter; absent = none. */
  readonly refused?: readonly RefusedObject[]
  readonly metadata: {
    readonly resourceVersion: string
    /** The next page's token; absent or '' on the last page (client-node calls it `_continue`). */
    readonly continue?: string
    readonly remainingItemCount?: number
  }
}

export type ListPageFn = (request: ListPageRequest) => Promise<RawList>

export type DiscoverFn = (
  ref: ResourceRef,
  options?: { readonly signal?: AbortSignal },
) => Promise<ResolvedResource>

/** One `GET <resource>?watch=true&resourceVersion=..` request. */
export interface WatchStreamRequest {
  readonly resolved: ResolvedResource
  readonly namespace?: string
  /** Events strictly after this version are sent (never '' here: that would replay the whole state). */
  readonly resourceVersion: string
  readonly timeoutSeconds: number
  readonly allowWatchBookmarks: true
  /** Aborting it closes the stream; iteration then throws. */
  readonly signal: AbortSignal
  /** K8S_WATCH_LINE_MAX_BYTES: a longer event throws WatchLineTooLargeError; unset = no cap. */
  readonly maxLineBytes?: number
  /**
   * An event whose object the edge refused (served-object.ts) is handed here,
   * in stream order, instead of being yielded; without it such an event
   * throws WatchParseError.
   */
  readonly onRefused?: (refused: RefusedObject) => void
  /** Ask for PartialObjectMetadata (SECRET_MODE=metadata): objects carry metadata only. */
  readonly metadataOnly?: boolean
}

/**
 * Resolves once the server answered 200 (so a caller can tell "connected");
 * rejects with the HTTP error otherwise. Iteration yields events in order,
 * ends when the server ends the stream, and throws on an ERROR event (a
 * KubeApiError with the Status code: 410 = expired), a socket error, a cut
 * mid-event, or a line that is not JSON.
 */
export type WatchStreamFn = (request: WatchStreamRequest) => Promise<AsyncIterable<WatchEvent>>
