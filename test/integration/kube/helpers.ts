import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node'
import { createKubeClient, type KubeClient } from '../../../lib/kube/client.js'
import type { ListPage, ResolvedResource, WatchEvent } from '../../../lib/kube/types.js'
import type { WatchWindowResult } from '../../../lib/kube/watcher.js'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import type { RetryPolicy } from '../../../lib/retry.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'

/** Quick retries: the backoff sequence itself is unit-tested. */
export const fastPolicy: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 50,
  maxDelayMs: 400,
  backoffMultiplier: 2,
}

export function kubeClient(path = process.env.KUBECONFIG!): KubeClient {
  // The stack's ALLOW_INSECURE_TLS: the HTTP fault proxy is a plain http:// API server.
  return createKubeClient(
    { kind: 'file', path },
    {
      requestTimeoutMs: 10_000,
      guard: unguarded,
      allowInsecureTls: process.env.ALLOW_INSECURE_TLS === 'true',
    },
  )
}

export async function resolve(kube: KubeClient, id: string): Promise<ResolvedResource> {
  return kube.discover(parseResourceRef(id)!)
}

/** Creates `count` ConfigMaps `<prefix>-0000`... in parallel batches; returns their uids. */
export async function createConfigMaps(
  kc: KubeConfig,
  namespace: string,
  count: number,
  prefix = 'cm',
): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api)
  const uids: string[] = []
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, (_, i) =>
      core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: `${prefix}-${String(start + i).padStart(4, '0')}` },
          data: { 'nginx.conf': 'x' },
        },
      }),
    )
    for (const created of await Promise.all(batch)) uids.push(created.metadata!.uid!)
  }
  return uids
}

export async function createWidgets(
  kc: KubeConfig,
  namespace: string,
  count: number,
): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi)
  for (let i = 0; i < count; i++) {
    await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace,
      plural: 'widgets',
      body: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: `w-${i}` },
        spec: { size: i },
      },
    })
  }
}

/** Drains a pager or watcher: what it yielded and what it returned. */
export async function drain<T, R>(
  generator: AsyncGenerator<T, R, undefined>,
  onItem: (item: T, index: number) => void | Promise<void> = () => undefined,
): Promise<{ items: T[]; result: R }> {
  const items: T[] = []
  for (;;) {
    const step = await generator.next()
    if (step.done) return { items, result: step.value }
    items.push(step.value)
    await onItem(step.value, items.length - 1)
  }
}

export const uidsOf = (pages: ListPage[]) =>
  pages.flatMap((p) => p.items.map((o) => o.metadata.uid))

/** Uids a consumer would hold at the end: those since the last restart. */
export function finalSeen(pages: ListPage[]): string[] {
  const last = pages.findLastIndex((p) => p.restarted)
  return uidsOf(pages.slice(Math.max(0, last)))
}

export type WatchRun = { items: WatchEvent[]; result: WatchWindowResult }
