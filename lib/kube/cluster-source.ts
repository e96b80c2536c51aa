import type { Config } from '../config.js'
import type { KubeClient } from './client.js'
import type { ListPageFn, WatchStreamFn } from './operations.js'
import { listPages } from './pager.js'
import type { ListPage, RefusedObject, ResolvedResource, WatchEvent } from './types.js'
import { watchWindow, type WatchWindowResult } from './watcher.js'
import { notTransient } from '../classify.js'
import { retryWithBackoff } from '../retry.js'
import type { ResourceRef } from '../resource-ref.js'
import { isSecretKind } from '../secret-policy.js'

export interface ListOptions {
  readonly namespaces?: readonly string[]
  readonly signal: AbortSignal
  /** Called when a 410 leaves the choice between restarting and an inconsistent continue. */
  readonly allowInconsistentContinue: () => boolean
}

export interface WatchOptions {
  readonly fromResourceVersion: string
  readonly windowEndsAt: number
  readonly signal: AbortSignal
  /** Takes the events whose object the edge refused (served-object.ts), to dead-letter. */
  readonly onRefused?: (refused: RefusedObject) => void
}

/** What the sync needs from a cluster: discovery, a paginated list pass, a bounded watch window. */
export interface ClusterSource {
  resolve(ref: ResourceRef, signal?: AbortSignal): Promise<ResolvedResource>
  listPages(resolved: ResolvedResource, options: ListOptions): AsyncIterable<ListPage>
  /** Yields events in order; returns the window's result when it ends. */
  watch(
    resolved: ResolvedResource,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, WatchWindowResult>
}

/** The orchestration's view of a cluster, over lib/kube's client, pager and watcher. */
export function clusterSource(
  client: KubeClient,
  config: Pick<Config, 'k8s' | 'retry' | 'features' | 'secrets'>,
): ClusterSource {
  // SECRET_MODE=metadata: a Secret is listed and watched as PartialObjectMetadata, so its
  // values never leave the API server (docs/design.md#secret-values).
  const metadataOnly = (resolved: ResolvedResource) =>
    config.secrets.mode === 'metadata' && isSecretKind(resolved.kind)
  const listPageOf = (resolved: ResolvedResource): ListPageFn =>
    metadataOnly(resolved)
      ? (request) => client.listPage({ ...request, metadataOnly: true })
      : client.listPage
  const watchStreamOf = (resolved: ResolvedResource): WatchStreamFn =>
    metadataOnly(resolved)
      ? (request) => client.watchStream({ ...request, metadataOnly: true })
      : client.watchStream
  return {
    // Discovery is a request like any other: a 503 or a reset is retried (a 404 is an answer).
    resolve: (ref: ResourceRef, signal?: AbortSignal) =>
      retryWithBackoff(() => client.discover(ref, signal ? { signal } : {}), `discover ${ref.id}`, {
        policy: config.retry,
        isFatal: notTransient,
        ...(signal ? { signal } : {}),
        context: { resource: ref.id },
      }),

    listPages: (resolved: ResolvedResource, options: ListOptions): AsyncIterable<ListPage> =>
      listPages(listPageOf(resolved), {
        resolved,
        pageSize: config.k8s.listPageSize,
        maxPageBytes: config.k8s.listPageMaxBytes,
        minPageSize: config.k8s.listPageMinSize,
        signal: options.signal,
        policy: config.retry,
        allowInconsistentContinue: options.allowInconsistentContinue,
        ...(options.namespaces ? { namespaces: options.namespaces } : {}),
      }),

    watch: (resolved: ResolvedResource, options: WatchOptions) =>
      watchWindow(watchStreamOf(resolved), {
        resolved,
        fromResourceVersion: options.fromResourceVersion,
        windowEndsAt: options.windowEndsAt,
        signal: options.signal,
        reconnect: config.features.k8sWatchReconnect,
        policy: config.retry,
        watchTimeoutMs: config.k8s.watchTimeoutMs,
        maxLineBytes: config.k8s.watchLineMaxBytes,
        ...(options.onRefused ? { onRefused: options.onRefused } : {}),
      }),
  }
}
