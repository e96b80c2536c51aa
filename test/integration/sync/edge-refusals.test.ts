import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { DEAD_LETTER_COLLECTION } from '../../../lib/store/bookkeeping/dead-letters.js'
import { checkpointsFor } from '../../../lib/store/bookkeeping/sync-state.js'
import {
  and,
  isList,
  isWatch,
  pathMatches,
  startFaultProxy,
  type FaultProxy,
} from '../../stack/fault-proxy.js'
import { kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import { harness, namespaceWithConfigMaps, type Harness } from './harness.js'

/*
 * docs/security.md#bounded-input: an API server (or a proxy in front of it)
 * that sends an operator where a uid, name or resourceVersion belongs. The
 * real API server never does, so the fault proxy rewrites what it sends; the
 * sync runs against the real MongoDB server.
 */

interface Item {
  metadata: Record<string, unknown>
}

/** Replaces metadata fields of the objects named `<namespace>/<name>` in a list body or one watch event. */
function poison(text: string, changes: Record<string, Record<string, unknown>>): string {
  const body = JSON.parse(text) as { items?: Item[]; object?: Item }
  for (const item of body.items ?? (body.object ? [body.object] : [])) {
    const { namespace, name } = item.metadata as { namespace?: string; name?: string }
    const change = changes[`${namespace}/${name}`]
    if (change) Object.assign(item.metadata, change)
  }
  return JSON.stringify(body)
}

describe.skipIf(kubeIsExternal())('objects refused at the edge, end to end', () => {
  let kc: KubeConfig
  let ns: string
  let proxy: FaultProxy
  let h: Harness

  beforeAll(async () => {
    kc = kubeConfigFrom()
    ns = await namespaceWithConfigMaps(kc, 3, 'edge-refusals')
    proxy = await startFaultProxy()
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps' }, proxy.kubeconfigPath)
  }, 120_000)
  afterAll(async () => {
    await h?.close()
    await proxy?.close()
  })

  const docs = () => h.db.collection('configmaps').find({ namespace: ns }).toArray()
  const deadLetters = () =>
    h.db.collection(DEAD_LETTER_COLLECTION).find({ namespace: ns }).sort({ name: 1 }).toArray()

  it('dead-letters listed objects with an operator for a uid or resourceVersion, and stores none of it', async () => {
    proxy.addRule({
      match: and(isList, pathMatches(`/api/v1/namespaces/${ns}/configmaps`)),
      action: {
        kind: 'rewrite',
        rewrite: (text) =>
          poison(text, {
            [`${ns}/cm-1`]: { uid: { $gt: '' } },
            [`${ns}/cm-2`]: { resourceVersion: { $ne: null } },
          }),
      },
    })

    const out = await h.reconcile({ namespaces: [ns] })

    expect(out.resources[0]).toMatchObject({
      status: 'complete',
      listed: 1,
      inserted: 1,
      deleted: 0,
      deadLettered: 2,
    })
    const stored = await docs()
    expect(stored.map((d) => [d.name, typeof d.uid, typeof d.resourceVersion])).toEqual([
      ['cm-0', 'string', 'string'],
    ])
    const letters = await deadLetters()
    expect(letters.map((d) => [d.name, d.kind, d.operation, d.source, d.reason])).toEqual([
      [
        'cm-1',
        'invalid-object',
        'upsert',
        'reconcile',
        'refused at the edge: metadata.uid missing or not a non-empty string',
      ],
      [
        'cm-2',
        'invalid-object',
        'upsert',
        'reconcile',
        'refused at the edge: metadata.resourceVersion missing or not a non-empty string',
      ],
    ])
    // Every stored value is a string: nothing of the operators reached MongoDB.
    expect(letters.map((d) => [typeof d.uid, typeof d.resourceVersion])).toEqual([
      ['string', 'string'],
      ['string', 'string'],
    ])
    // Keyed by the served uid where it was usable, else by the served content.
    expect(letters[0]?.uid).toMatch(/^invalid:[0-9a-f]{32}$/)
    const cm2 = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace: ns, name: 'cm-2' })
    expect(letters[1]).toMatchObject({ uid: cm2.metadata!.uid, resourceVersion: '' })
  })

  it('writes them once the server sends them whole, and clears their dead letters', async () => {
    proxy.clearRules()

    const out = await h.reconcile({ namespaces: [ns] })

    expect(out.resources[0]).toMatchObject({ status: 'complete', inserted: 2, deadLettered: 0 })
    expect((await docs()).map((d) => d.name).sort()).toEqual(['cm-0', 'cm-1', 'cm-2'])
    expect(await deadLetters()).toEqual([])
  })

  it('dead-letters a watched event with an operator for a uid, and moves the checkpoint past it', async () => {
    const core = kc.makeApiClient(CoreV1Api)
    const before = (await docs()).find((d) => d.name === 'cm-0')!
    proxy.addRule({
      match: and(isWatch, pathMatches('/api/v1/configmaps')),
      action: {
        kind: 'rewrite',
        rewrite: (line) => poison(line, { [`${ns}/cm-0`]: { uid: { $gt: '' } } }),
      },
      times: Infinity,
    })
    // A watch checkpoint at the current revision, as a full reconcile would have left it.
    const now = await core.listNamespacedConfigMap({ namespace: ns, limit: 1 })
    await checkpointsFor(h.db, 'test', parseResourceRef('v1/configmaps')!).saveListCheckpoint(
      now.metadata!.resourceVersion!,
      {},
    )
    const current = await core.readNamespacedConfigMap({ namespace: ns, name: 'cm-0' })
    const changed = await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: 'cm-0',
      body: { ...current, data: { changed: 'yes' } },
    })
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'cm-3' }, data: { k: 'v' } },
    })

    const out = await h.watch({ windowSeconds: 3 })

    expect(out.resources[0]).toMatchObject({ status: 'complete', deadLettered: 1, inserted: 1 })
    const stored = await docs()
    expect(stored.find((d) => d.name === 'cm-0')?.resourceVersion).toBe(before.resourceVersion)
    expect(stored.map((d) => d.name).sort()).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3'])
    const [letter] = await deadLetters()
    expect(letter).toMatchObject({
      name: 'cm-0',
      kind: 'invalid-object',
      source: 'watch',
      resourceVersion: changed.metadata!.resourceVersion,
      reason: 'refused at the edge: metadata.uid missing or not a non-empty string',
    })
    const state = await h.db
      .collection<{ _id: string; watchResourceVersion?: string }>('sync_state')
      .findOne({ resource: 'v1/configmaps' })
    expect(Number(state?.watchResourceVersion)).toBeGreaterThanOrEqual(
      Number(changed.metadata!.resourceVersion),
    )
  })
})
