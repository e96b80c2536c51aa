import { CoreV1Api } from '@kubernetes/client-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SecretMode } from '../../../lib/secret-policy.js'
import { serverProfileOf } from '../../../lib/store/connection/server-profile.js'
import type { HistoryDocument } from '../../../lib/store/history/history-document.js'
import { configMap } from '../../stack/seed-objects.js'
import { createTestNamespace, kubeConfigFrom } from '../../stack/test-helpers.js'
import { harness, type Harness } from '../sync/harness.js'
import { historyOfUid, sleep } from './history-helpers.js'

/*
 * What object history keeps, and of what (issue 19, lib/store/history/):
 * never a Secret value, whatever SECRET_MODE; nothing at all, and no extra
 * read, for a resource not under HISTORY_RESOURCES; a reconcile's delete as
 * DELETED with the last stored state; versions older than the retention gone.
 */

const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)
const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('object history: what is kept, and of what', () => {
  let namespace: string
  let h: Harness | undefined

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'his-scope')
  })
  afterEach(async () => {
    await h?.close()
    h = undefined
  })
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined)
  })

  it.each(['plain', 'hmac', 'redacted', 'metadata'] as const)(
    'never stores a Secret value in history in %s mode',
    async (mode: SecretMode) => {
      const name = `s-${mode}`
      const first = `first-v4lue-${mode}-kept-in-the-cluster`
      const second = `second-v4lue-${mode}-kept-in-the-cluster`
      const created = await core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name, annotations: { 'gitops.example.com/rendered': `password: ${first}` } },
          type: 'Opaque',
          stringData: { password: first },
        },
      })
      h = await harness({
        SYNC_RESOURCES: 'v1/secrets',
        HISTORY_RESOURCES: 'v1/secrets',
        SECRET_MODE: mode,
        ...(mode === 'hmac' ? { SECRET_HASH_KEY: 'a-hash-key-for-the-history-test' } : {}),
      })
      expect((await h.reconcile()).resources[0]).toMatchObject({ status: 'complete' })
      const window = h.watch({ windowSeconds: 3 })
      await sleep(1000)
      await core.patchNamespacedSecret({
        namespace,
        name,
        body: [
          { op: 'replace', path: '/data/password', value: b64(second) },
          {
            op: 'replace',
            path: '/metadata/annotations/gitops.example.com~1rendered',
            value: `password: ${second}`,
          },
        ],
      })
      expect((await window).resources[0]).toMatchObject({ status: 'complete' })

      const recorded = await historyOfUid(h.db, created.metadata!.uid!)
      expect(recorded.map((d) => [d.type, d.source])).toEqual([
        ['ADDED', 'reconcile'],
        ['MODIFIED', 'watch'],
      ])
      const text = JSON.stringify(await h.db.collection('object_history').find({}).toArray())
      for (const value of [first, second])
        for (const form of [value, b64(value)]) expect(text).not.toContain(form)
      expect(text).not.toContain('hmac-sha256')
      if (mode === 'plain') {
        // The inventory keeps them, as plain mode says: history is stricter on purpose.
        const stored = JSON.stringify(await h.db.collection('secrets').findOne({ name }))
        expect(stored).toContain(b64(second))
      }
    },
  )

  it('writes no history, no historyResourceVersion and reads nothing more for a resource not under history', async () => {
    await core.createNamespacedConfigMap({ namespace, body: configMap('plain-cm', 1) })
    h = await harness({
      SYNC_RESOURCES: 'v1/configmaps,v1/secrets',
      HISTORY_RESOURCES: 'v1/secrets',
    })
    const commands: Array<{ name: string; command: Record<string, unknown> }> = []
    h.mongo.on('commandStarted', (e) => commands.push({ name: e.commandName, command: e.command }))
    await h.reconcile({ resources: ['v1/configmaps'] })
    const window = h.watch({ resources: ['v1/configmaps'], windowSeconds: 3 })
    await sleep(1000)
    await core.patchNamespacedConfigMap({
      namespace,
      name: 'plain-cm',
      body: [{ op: 'replace', path: '/data/LOG_LEVEL', value: 'warn' }],
    })
    const out = await window
    const sent = [...commands] // what the sync sent, before this test's own queries
    expect(out.resources[0]).toMatchObject({ status: 'complete', historyWritten: 0 })
    expect(out.resources[0]!.updated).toBeGreaterThanOrEqual(1)

    expect(await h.db.collection('object_history').countDocuments({})).toBe(0)
    expect(
      await h.db
        .collection('configmaps')
        .countDocuments({ historyResourceVersion: { $exists: true } }),
    ).toBe(0)
    const touched = sent.filter((c) => JSON.stringify(c.command).includes('object_history'))
    expect(touched).toEqual([])
    // No read of stored objects: the write protocol's reads project the version only.
    const objectReads = sent.filter(
      (c) =>
        c.name === 'find' &&
        c.command.find === 'configmaps' &&
        JSON.stringify(c.command.projection ?? {}).includes('object'),
    )
    expect(objectReads).toEqual([])
    expect(
      sent.some((c) => c.command.find === 'configmaps' || c.command.insert === 'configmaps'),
    ).toBe(true)
  })

  it('records a reconcile delete as DELETED with the last stored state, incomplete', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: configMap('gone-cm', 2),
    })
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps', HISTORY_RESOURCES: 'v1/configmaps' })
    await h.reconcile()
    await core.deleteNamespacedConfigMap({ namespace, name: 'gone-cm' })
    const out = await h.reconcile()
    expect(out.resources[0]).toMatchObject({ status: 'complete', deleted: 1 })
    expect(out.resources[0]!.historyWritten).toBeGreaterThanOrEqual(1)

    const recorded = await historyOfUid(h.db, created.metadata!.uid!)
    expect(recorded.map((d) => [d.type, d.source, d.complete])).toEqual([
      ['ADDED', 'reconcile', false],
      ['DELETED', 'reconcile', false],
    ])
    expect(recorded[1]!.object).toEqual(recorded[0]!.object)
    expect(recorded[1]!.patch).toEqual([])
    expect(recorded[1]!.resourceVersion).toBe(out.resources[0]!.listResourceVersion)
  })

  it('indexes history for its queries and expires versions past HISTORY_RETENTION_DAYS: a TTL index on MongoDB, a sweep elsewhere', async () => {
    h = await harness({
      SYNC_RESOURCES: 'v1/configmaps',
      HISTORY_RESOURCES: 'v1/configmaps',
      HISTORY_RETENTION_DAYS: '30',
    })
    const old = versionAt('old', 31)
    const recent = versionAt('recent', 29)
    const versions = h.db.collection<HistoryDocument>('object_history')
    await versions.insertMany([old, recent])
    await h.reconcile()

    const indexes = await h.db.collection('object_history').listIndexes().toArray()
    const byName = new Map(indexes.map((i) => [i.name as string, i]))
    expect(byName.get('cluster_resource_namespace_name_observedAt')?.key).toEqual({
      cluster: 1,
      resource: 1,
      namespace: 1,
      name: 1,
      observedAt: -1,
    })
    expect(byName.get('cluster_uid_observedAt')?.key).toEqual({
      cluster: 1,
      uid: 1,
      observedAt: -1,
    })
    expect(byName.get('resource_observedAt')?.key).toEqual({ resource: 1, observedAt: -1 })
    const ids = await versions.find({ _id: { $in: [old._id, recent._id] } }).toArray()
    if ((await serverProfileOf(h.db)).ttlIndexes) {
      expect(byName.get('observedAt_ttl')).toMatchObject({
        key: { observedAt: 1 },
        expireAfterSeconds: 30 * 86_400,
      })
    } else {
      expect(byName.has('observedAt_ttl')).toBe(false)
      expect(ids.map((d) => d._id)).toEqual([recent._id])
    }
  })
})

/** A hand-made history version observed `days` ago, of no live object. */
function versionAt(name: string, days: number): HistoryDocument {
  return {
    _id: `other/${name}/1`,
    cluster: 'other',
    resource: 'v1/configmaps',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: 'ns',
    name,
    uid: name,
    resourceVersion: '1',
    type: 'ADDED',
    observedAt: new Date(Date.now() - days * 86_400_000),
    source: 'watch',
    complete: true,
    object: {},
    patch: [],
  }
}
