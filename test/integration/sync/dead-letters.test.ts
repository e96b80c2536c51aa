import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { checkpointsFor } from '../../../lib/store/bookkeeping/sync-state.js'
import { deadLettersOf, type DeadLetter } from '../../../lib/store/bookkeeping/dead-letters.js'
import type { ReconcileReport } from '../../../lib/sync/reconcile-resource.js'
import { kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { captureOutput } from '../store/helpers.js'
import { converged, divergence, harness, type Harness } from './harness.js'

/*
 * A user adds a unique index on a field of the inventory (here
 * `object.data.slot`) and two ConfigMaps of one namespace collide on it: the
 * server refuses the second one, per document (FerretDB 1.24 enforces unique
 * secondary indexes; `insert` answers 11000, `update` InternalError with
 * SQLite's "UNIQUE constraint failed"). Everything else must still be
 * written, the refused one kept in sync_dead_letters and retried by every
 * reconcile until the conflict is gone.
 *
 * Reconciles here are limited to this test's namespace (a namespaced
 * reconcile), so the unique index sees only this test's objects whatever
 * other tests left in the shared cluster.
 */

const OBJECTS = 30
const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)

const configMap = (name: string, slot: string): V1ConfigMap => ({
  metadata: { name, labels: { 'app.kubernetes.io/name': 'dead-letters' } },
  data: { slot, 'app.properties': `name=${name}` },
})

describe('dead letters against the real API server and MongoDB server', () => {
  let h: Harness
  let ns: string
  let letters: () => Promise<DeadLetter[]>
  const logs: Array<Record<string, unknown>> = []

  /** Runs a namespaced reconcile of configmaps, keeping its log events. */
  async function reconcile(): Promise<ReconcileReport> {
    const capture = captureOutput()
    try {
      const out = await h.reconcile({ resources: ['v1/configmaps'], namespaces: [ns] })
      return out.resources[0]!
    } finally {
      capture.restore()
      logs.push(...capture.events())
    }
  }
  const uidOf = async (name: string) =>
    (await core.readNamespacedConfigMap({ name, namespace: ns })).metadata!.uid!
  const storedUids = async () =>
    new Set(
      (
        await h.db
          .collection('configmaps')
          .find({}, { projection: { uid: 1 } })
          .toArray()
      ).map((d) => d.uid as string),
    )

  beforeAll(async () => {
    ns = uniqueName('dl')
    await core.createNamespace({ body: { metadata: { name: ns } } })
    const limit = pLimit(16)
    await Promise.all(
      Array.from({ length: OBJECTS }, (_, i) =>
        limit(() =>
          core.createNamespacedConfigMap({ namespace: ns, body: configMap(`cm-${i}`, `s-${i}`) }),
        ),
      ),
    )
    // Lists serve names in order: cm-dup comes after cm-7 in the same page and chunk.
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('cm-dup', 's-7') })
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps', BULK_WRITE_BATCH_SIZE: '100' })
    await h.db
      .collection('configmaps')
      .createIndex({ 'object.data.slot': 1 }, { unique: true, name: 'unique_slot' })
    const collection = deadLettersOf(h.db)
    letters = () => collection.find({}).sort({ uid: 1 }).toArray()
  }, 120_000)
  afterAll(async () => {
    await h?.close()
  })

  it('dead-letters the refused object and writes every other object of its chunk', async () => {
    const report = await reconcile()
    expect(report).toMatchObject({
      status: 'complete',
      listed: OBJECTS + 1,
      inserted: OBJECTS,
      deadLettered: 1,
    })
    const dupUid = await uidOf('cm-dup')
    const stored = await storedUids()
    expect(stored.size).toBe(OBJECTS)
    expect(stored.has(dupUid)).toBe(false)
    expect(stored.has(await uidOf('cm-7'))).toBe(true)
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject({
      lost: [dupUid],
      stale: [],
      extra: [],
    })

    const [letter, ...others] = await letters()
    expect(others).toEqual([])
    const live = await core.readNamespacedConfigMap({ name: 'cm-dup', namespace: ns })
    expect(letter).toMatchObject({
      _id: `test/v1/configmaps/${dupUid}`,
      cluster: 'test',
      resource: 'v1/configmaps',
      uid: dupUid,
      namespace: ns,
      name: 'cm-dup',
      resourceVersion: live.metadata!.resourceVersion,
      operation: 'insert',
      kind: 'duplicate-key',
      code: 11000,
      attempts: 1,
      source: 'reconcile',
    })
    expect(letter!.reason).toMatch(/duplicate key/i)
    expect(logs.filter((e) => e.event === 'deadletter.recorded')).toEqual([
      expect.objectContaining({ resource: 'v1/configmaps', uid: dupUid, attempts: 1 }),
    ])
  })

  it('retries it on the next reconcile and counts the attempt', async () => {
    const report = await reconcile()
    expect(report).toMatchObject({ status: 'complete', inserted: 0, deadLettered: 1 })
    const [letter] = await letters()
    expect(letter).toMatchObject({ name: 'cm-dup', attempts: 2 })
    expect(letter!.lastFailedAt.getTime()).toBeGreaterThan(letter!.firstFailedAt.getTime())
  })

  it('writes it and clears the dead letter once the conflict is gone', async () => {
    await core.replaceNamespacedConfigMap({
      name: 'cm-dup',
      namespace: ns,
      body: configMap('cm-dup', 's-dup'),
    })
    const before = logs.length
    const report = await reconcile()
    expect(report).toMatchObject({ status: 'complete', inserted: 1, deadLettered: 0 })
    expect(await letters()).toEqual([])
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
    expect(logs.slice(before).filter((e) => e.event === 'deadletter.cleared')).toEqual([
      expect.objectContaining({ uid: await uidOf('cm-dup'), reason: 'written' }),
    ])
  })

  it('dead-letters a refused watch event without holding back the watch checkpoint', async () => {
    // A watch checkpoint at the current revision, as a full reconcile would have left it.
    const now = await core.listNamespacedConfigMap({ namespace: ns, limit: 1 })
    const ref = parseResourceRef('v1/configmaps')!
    const checkpoints = checkpointsFor(h.db, 'test', ref)
    await checkpoints.saveListCheckpoint(now.metadata!.resourceVersion!, {})
    const refused = await core.createNamespacedConfigMap({
      namespace: ns,
      body: configMap('cm-watch-dup', 's-3'),
    })
    const accepted = await core.createNamespacedConfigMap({
      namespace: ns,
      body: configMap('cm-watch-ok', 's-watch'),
    })

    const out = await h.watch({ resources: ['v1/configmaps'], windowSeconds: 3 })
    const report = out.resources[0]!
    expect(report).toMatchObject({ status: 'complete', inserted: 1, deadLettered: 1 })
    const stored = await storedUids()
    expect(stored.has(accepted.metadata!.uid!)).toBe(true)
    expect(stored.has(refused.metadata!.uid!)).toBe(false)
    expect(await letters()).toEqual([
      expect.objectContaining({
        uid: refused.metadata!.uid,
        operation: 'upsert',
        source: 'watch',
        attempts: 1,
      }),
    ])
    const state = await checkpoints.getState()
    const checkpoint = BigInt(state!.watchResourceVersion!)
    expect(checkpoint >= BigInt(accepted.metadata!.resourceVersion!)).toBe(true)
    expect(checkpoint >= BigInt(refused.metadata!.resourceVersion!)).toBe(true)
  })

  it('retries a dead-lettered watch event on the next reconcile, and drops it once the object is deleted', async () => {
    const uid = await uidOf('cm-watch-dup')
    const retried = await reconcile()
    expect(retried).toMatchObject({ status: 'complete', deadLettered: 1 })
    expect(await letters()).toEqual([
      expect.objectContaining({ uid, attempts: 2, source: 'reconcile' }),
    ])

    await core.deleteNamespacedConfigMap({ name: 'cm-watch-dup', namespace: ns })
    const before = logs.length
    const report = await reconcile()
    expect(report).toMatchObject({ status: 'complete', deadLettered: 0 })
    expect(await letters()).toEqual([])
    expect(logs.slice(before).filter((e) => e.event === 'deadletter.cleared')).toEqual([
      expect.objectContaining({ uid, reason: 'not listed' }),
    ])
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  })
})
