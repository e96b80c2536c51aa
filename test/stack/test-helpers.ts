import { randomBytes } from 'node:crypto'

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node'

// Small helpers for integration tests: isolation by unique names, and watches as promises.

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`

export const kubeIsExternal = () => process.env.STACK_KUBE_EXTERNAL === '1'
export const mongoIsExternal = () => process.env.STACK_MONGO_EXTERNAL === '1'

export function kubeConfigFrom(path = process.env.KUBECONFIG): KubeConfig {
  if (!path) throw new Error('KUBECONFIG unset: is test/stack/load-env.ts in setupFiles?')
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  return kc
}

/** Creates a namespace with a random suffix; namespaces never finish deleting without controllers. */
export async function createTestNamespace(kc: KubeConfig, prefix = 'test'): Promise<string> {
  const name = uniqueName(prefix)
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } })
  return name
}

export interface WatchEvent {
  type: string
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string }
}

export interface WatchOutcome {
  events: WatchEvent[]
  /** What `done` reported: null for a clean close, an Error otherwise; undefined if we stopped it. */
  doneError: unknown
  ended: boolean
}

/** Watches until `stop(events)` is true, the stream ends, or the timeout passes. */
export async function collectWatch(
  kc: KubeConfig,
  path: string,
  params: Record<string, string | number | boolean | undefined>,
  {
    stop = () => false,
    timeoutMs = 10_000,
  }: { stop?: (events: WatchEvent[]) => boolean; timeoutMs?: number } = {},
): Promise<WatchOutcome> {
  const events: WatchEvent[] = []
  let controller: AbortController | undefined
  return new Promise<WatchOutcome>((resolve) => {
    let settled = false
    const finish = (outcome: WatchOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      controller?.abort()
      resolve(outcome)
    }
    const timer = setTimeout(
      () => finish({ events, doneError: undefined, ended: false }),
      timeoutMs,
    )
    void new Watch(kc)
      .watch(
        path,
        params,
        (type, object) => {
          events.push({ type, object })
          if (stop(events)) finish({ events, doneError: undefined, ended: false })
        },
        (error) => finish({ events, doneError: error, ended: true }),
      )
      .then(
        (c) => {
          controller = c
          if (settled) c.abort()
        },
        (error: unknown) => finish({ events, doneError: error, ended: true }),
      )
  })
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf<E = Error & { code?: number | string; body: string }>(
  promise: Promise<unknown>,
): Promise<E> {
  try {
    await promise
  } catch (error) {
    return error as E
  }
  throw new Error('expected a rejection, got a result')
}
