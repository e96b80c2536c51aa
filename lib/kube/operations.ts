import type { ResourceRef } from '../resource-ref.js'
import type { KubeObject, ResolvedResource, WatchEvent } from './types.js'

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
}

/** A list response as served (only what the sync reads is typed). */
export interface RawList {
  readonly items: KubeObject[]
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
}

/**
 * Resolves once the server answered 200 (so a caller can tell "connected");
 * rejects with the HTTP error otherwise. Iteration yields events in order,
 * ends when the server ends the stream, and throws on an ERROR event (a
 * KubeApiError with the Status code: 410 = expired), a socket error, a cut
 * mid-event, or a line that is not JSON.
 */
export type WatchStreamFn = (request: WatchStreamRequest) => Promise<AsyncIterable<WatchEvent>>
