import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configMap } from '../../../stack/seed-objects.js'
import { createTestNamespace, kubeConfigFrom } from '../../../stack/test-helpers.js'
import { mongoUriThroughToxiproxy, ToxiproxyClient } from '../../../stack/toxiproxy.js'
import { harness, type Harness } from '../../sync/harness.js'
import { withCapturedLogs } from '../helpers.js'

const toxiproxy = new ToxiproxyClient()
const TOXIC = 'pacing-latency'

async function createConfigMaps(kc: KubeConfig, namespace: string, from: number, to: number) {
  const core = kc.makeApiClient(CoreV1Api)
  const limit = pLimit(16)
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => from + k).map((i) =>
      limit(() => core.createNamespacedConfigMap({ namespace, body: configMap(`cm-${i}`, i) })),
    ),
  )
}

async function reconcileCapturing(h: Harness, namespace: string) {
  const { result: out, events } = await withCapturedLogs(() =>
    h.reconcile({ namespaces: [namespace] }),
  )
  return { out, events }
}

describe('adaptive pacing of bulk writes against a slow MongoDB', () => {
  const kc = kubeConfigFrom()
  let namespace: string
  let h: Harness

  beforeAll(async () => {
    const uri = mongoUriThroughToxiproxy()
    namespace = await createTestNamespace(kc, 'pace')
    h = await harness(
      {
        SYNC_RESOURCES: 'v1/configmaps',
        BULK_WRITE_BATCH_SIZE: '5',
        BULK_WRITE_MAX_CONCURRENT: '4',
        BULK_WRITE_BATCH_DELAY_MS: '0',
        PACING_LATENCY_TARGET_MS: '1500',
        PACING_MAX_DELAY_MS: '200',
      },
      process.env.KUBECONFIG,
      uri,
    )
  })
  afterAll(async () => {
    await toxiproxy.removeToxic('mongo', TOXIC).catch(() => undefined)
    await h?.close()
  })

  it('slows down under injected latency and returns to the configured settings when healthy', async () => {
    const pacing = h.pacing
    await createConfigMaps(kc, namespace, 0, 40)

    // Every answer of MongoDB 1 s late: a chunk (a read and a write) takes over 2 s.
    await toxiproxy.addToxic('mongo', {
      name: TOXIC,
      type: 'latency',
      attributes: { latency: 1000 },
    })
    let slowed
    try {
      slowed = await reconcileCapturing(h, namespace)
    } finally {
      await toxiproxy.removeToxic('mongo', TOXIC)
    }
    expect(slowed.out.ok).toBe(true)
    expect(slowed.out.resources[0]).toMatchObject({ inserted: 40 })
    expect(slowed.out.resources[0]!.pacingSlowdowns).toBeGreaterThan(0)
    const slowdowns = slowed.events.filter((e) => e.event === 'pacing.slowed')
    expect(slowdowns.length).toBe(slowed.out.resources[0]!.pacingSlowdowns)
    expect(slowdowns[0]).toMatchObject({ reason: 'latency', from: { concurrency: 4, delayMs: 0 } })
    // Within the bounds: at least one chunk in flight, never more than PACING_MAX_DELAY_MS apart.
    expect(pacing.concurrency()).toBeGreaterThanOrEqual(1)
    expect(pacing.concurrency()).toBeLessThan(4)
    expect(pacing.delayMs()).toBeLessThanOrEqual(200)

    // Healthy again: 60 creates and 40 updates in 20 fast chunks.
    await createConfigMaps(kc, namespace, 40, 100)
    const core = kc.makeApiClient(CoreV1Api)
    for (let i = 0; i < 40; i++)
      await core.patchNamespacedConfigMap({
        name: `cm-${i}`,
        namespace,
        body: [{ op: 'add', path: '/data/touched', value: 'yes' }],
      })
    const healthy = await reconcileCapturing(h, namespace)
    expect(healthy.out.ok).toBe(true)
    expect(healthy.out.resources[0]).toMatchObject({ inserted: 60, updated: 40 })
    expect(healthy.events.map((e) => e.event)).toContain('pacing.recovered')
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([4, 0])
  })
})
