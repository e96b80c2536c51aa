import { CoreV1Api } from '@kubernetes/client-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RESOURCE_CONCURRENCY } from '../../../lib/sync/reconcile-run.js'
import { isList, startFaultProxy } from '../../stack/fault-proxy.js'
import { configMap } from '../../stack/seed-objects.js'
import { createTestNamespace, kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { mongoUriThroughToxiproxy, ToxiproxyClient } from '../../stack/toxiproxy.js'
import { withCapturedLogs } from '../store/helpers.js'
import { harness, type Harness } from '../sync/harness.js'

const toxiproxy = new ToxiproxyClient()
const THRESHOLD = 2
const HALF_OPEN_AFTER_MS = 3_000
const resources = [
  'v1/configmaps',
  'v1/secrets',
  'v1/serviceaccounts',
  'v1/services',
  'v1/endpoints',
  'v1/persistentvolumeclaims',
]

const breakerOf = (h: Harness | undefined, dependency: string) =>
  h?.breakers.snapshots().find((b) => b.dependency === dependency)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the MongoDB circuit breaker, with MongoDB unreachable', () => {
  const kc = kubeConfigFrom()
  let namespace: string
  let h: Harness

  beforeAll(async () => {
    const uri = mongoUriThroughToxiproxy()
    namespace = await createTestNamespace(kc, 'brk')
    const core = kc.makeApiClient(CoreV1Api)
    for (let i = 0; i < 5; i++)
      await core.createNamespacedConfigMap({ namespace, body: configMap(uniqueName('cm'), i) })
    h = await harness(
      {
        SYNC_RESOURCES: resources.join(','),
        BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
        BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000',
        MONGODB_TIMEOUT_MS: '1000',
      },
      process.env.KUBECONFIG,
      uri,
    )
  })
  afterEach(async () => {
    await toxiproxy.setEnabled('mongo', true)
  })
  afterAll(async () => {
    await toxiproxy.setEnabled('mongo', true)
    await h?.close()
  })

  it('opens after the configured failures, ends the run with a clear report, then recovers', async () => {
    const first = await h.reconcile({ namespaces: [namespace] })
    expect(first.ok).toBe(true)

    await toxiproxy.setEnabled('mongo', false)
    const { result: down, events: downEvents } = await withCapturedLogs(() =>
      h.reconcile({ namespaces: [namespace] }),
    )
    expect(down.ok).toBe(false)
    expect(down.resources.map((r) => r.status)).toEqual(resources.map(() => 'failed'))
    // One short failure per resource, not a retry storm per chunk: the calls
    // that failed are the ones up to the threshold plus those already in flight.
    const failures = breakerOf(h, 'mongodb')?.failures ?? 0
    expect(failures).toBeGreaterThanOrEqual(THRESHOLD)
    expect(failures).toBeLessThanOrEqual(THRESHOLD + RESOURCE_CONCURRENCY)
    const refused = down.resources.filter((r) =>
      /MongoDB circuit breaker is open after 2 consecutive failures/.test(r.error ?? ''),
    )
    // Every resource whose call failed counts once; every other one was refused without a call.
    expect(refused.length).toBe(resources.length - failures)
    const opened = downEvents.filter((e) => e.event === 'breaker.opened')
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({ dependency: 'mongodb', failureThreshold: THRESHOLD })

    // While open, a whole run makes no call to MongoDB at all.
    const again = await h.reconcile({ namespaces: [namespace] })
    expect(again.resources.every((r) => /circuit breaker is open/.test(r.error ?? ''))).toBe(true)
    expect(breakerOf(h, 'mongodb')?.failures).toBe(failures)

    await toxiproxy.setEnabled('mongo', true)
    // Recovery needs no help: the next runs after the half-open delay close it. On a loaded
    // machine a probe can still miss the 1 s timeouts while the driver reconnects through the
    // proxy (the breaker then opens again for HALF_OPEN_AFTER_MS), so the runs of a minute may.
    const backEvents: Array<Record<string, unknown>> = []
    let recovered = down
    const giveUpAt = Date.now() + 60_000
    while (!recovered.ok && Date.now() < giveUpAt) {
      await sleep(HALF_OPEN_AFTER_MS + 200)
      const attempt = await withCapturedLogs(() => h.reconcile({ namespaces: [namespace] }))
      recovered = attempt.result
      backEvents.push(...attempt.events)
    }
    expect(recovered.ok, JSON.stringify(recovered.resources)).toBe(true)
    expect(recovered.resources.find((r) => r.resource === 'v1/configmaps')).toMatchObject({
      status: 'complete',
      unchanged: 5,
    })
    expect(backEvents.map((e) => e.event)).toEqual(
      expect.arrayContaining(['breaker.half-open', 'breaker.closed']),
    )
    expect(breakerOf(h, 'mongodb')?.state).toBe('closed')
  })
})

describe('the API server circuit breaker, with the API server answering 503', () => {
  it('opens after the configured failures and fails the other resources without calling', async () => {
    const kc = kubeConfigFrom()
    const namespace = await createTestNamespace(kc, 'brk-kube')
    const proxy = await startFaultProxy()
    let h: Harness | undefined
    try {
      // Every list is refused: an API server whose storage is down.
      proxy.addRule({
        match: isList,
        action: { kind: 'status', status: 503 },
        times: 1_000,
      })
      h = await harness(
        {
          SYNC_RESOURCES: resources.join(','),
          BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
          BREAKER_HALF_OPEN_AFTER_MS: '60000',
        },
        proxy.kubeconfigPath,
      )
      const out = await h.reconcile({ namespaces: [namespace] })
      expect(out.resources.map((r) => r.status)).toEqual(resources.map(() => 'failed'))
      expect(
        out.resources.filter((r) =>
          /Kubernetes API server circuit breaker is open/.test(r.error ?? ''),
        ).length,
      ).toBeGreaterThanOrEqual(resources.length - RESOURCE_CONCURRENCY)
      const refusedByProxy = proxy.requests.filter((r) => r.fault === 'status').length
      // Requests that reached the API server: up to the threshold, plus those in flight.
      // (Concurrent discoveries of one group share a request, each counting as a failed call.)
      expect(breakerOf(h, 'kubernetes')?.failures).toBeGreaterThanOrEqual(THRESHOLD)
      expect(refusedByProxy).toBeGreaterThanOrEqual(1)
      expect(proxy.requests.length).toBeLessThanOrEqual(THRESHOLD + RESOURCE_CONCURRENCY)
      // MongoDB answered all along: its breaker never opened.
      expect(breakerOf(h, 'mongodb')?.state ?? 'closed').toBe('closed')
    } finally {
      await h?.close()
      await proxy.close()
    }
  })
})
