import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { CommandStartedEvent } from 'mongodb'
import pLimit from 'p-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { decodeKeys } from '../../../lib/store/documents/key-encoding.js'
import {
  startFaultProxy,
  isList,
  isContinuePage,
  and,
  pathMatches,
} from '../../stack/fault-proxy.js'
import { compactEtcd } from '../../stack/control.js'
import { seed } from '../../stack/seed.js'
import { configMap } from '../../stack/seed-objects.js'
import { kubeConfigFrom, kubeIsExternal, uniqueName } from '../../stack/test-helpers.js'
import { converged, divergence, harness, type Harness } from './harness.js'

const kinds = {
  'v1/configmaps': 'ConfigMap',
  'v1/secrets': 'Secret',
  'apps/v1/deployments': 'Deployment',
  'example.com/v1/widgets': 'Widget',
} as const
const allResources = Object.keys(kinds).join(',')

async function createConfigMaps(kc: KubeConfig, namespace: string, names: string[]) {
  const core = kc.makeApiClient(CoreV1Api)
  const limit = pLimit(16)
  await Promise.all(
    names.map((name, i) =>
      limit(() => core.createNamespacedConfigMap({ namespace, body: configMap(name, i) })),
    ),
  )
}

describe('reconcile against the real API server and MongoDB server', () => {
  const kc = kubeConfigFrom()
  let namespaces: string[] = []
  let h: Harness

  beforeAll(async () => {
    const prefix = uniqueName('rec')
    const seeded = await seed({
      objects: 5000,
      namespacePrefix: prefix,
      perNamespace: 1000,
      kubeconfig: kc,
    })
    namespaces = seeded.namespaces
    h = await harness({ SYNC_RESOURCES: allResources, K8S_LIST_PAGE_SIZE: '500' })
  }, 600_000)
  afterAll(async () => {
    await h?.close()
  })

  it('makes every collection match the cluster exactly after one run', async () => {
    const out = await h.reconcile({ namespaces })
    expect(out.ok).toBe(true)
    expect(out.resources.map((r) => r.status)).toEqual([
      'complete',
      'complete',
      'complete',
      'complete',
    ])
    const byResource = Object.fromEntries(out.resources.map((r) => [r.resource, r]))
    expect(byResource['v1/configmaps']).toMatchObject({
      listed: 2000,
      inserted: 2000,
      updated: 0,
      deleted: 0,
    })
    expect(byResource['example.com/v1/widgets']).toMatchObject({ listed: 1000, inserted: 1000 })
    for (const [resource, kind] of Object.entries(kinds)) {
      expect(await divergence(kc, h.db, resource, kind, namespaces)).toMatchObject(converged)
    }
  })

  it('never stores a Secret value, in plain text or base64: metadata only by default', async () => {
    const core = kc.makeApiClient(CoreV1Api)
    const live = await core.listNamespacedSecret({ namespace: namespaces[0]! })
    const values = live.items.flatMap((s) => Object.values(s.data ?? {}))
    expect(values.length).toBeGreaterThan(100)
    const needles = values.flatMap((b64) => [b64, Buffer.from(b64, 'base64').toString()])
    for await (const doc of h.db.collection('secrets').find({})) {
      const text = JSON.stringify(doc)
      for (const needle of needles) expect(text.includes(needle)).toBe(false)
      // SECRET_MODE=metadata: no `data`, not even its keys (docs/design.md#secret-values).
      expect(Object.keys(doc.object as object)).toEqual(['kind', 'apiVersion', 'metadata'])
    }
  })

  it('stores hostile keys encoded, and decodes them to the served object', async () => {
    // The object as served, untouched by client-node's typed deserialisation (which turns timestamps into Dates).
    const resolved = await h.kube.discover(parseResourceRef('v1/configmaps')!)
    const page = await h.kube.listPage({ resolved, namespace: namespaces[0]!, limit: 500 })
    const served = page.items.find((i) => i.metadata.name === 'config-0')!
    const doc = await h.db.collection('configmaps').findOne({ uid: served.metadata.uid })
    expect(Object.keys((doc!.object as { data: object }).data)).toContain('nginx%2Econf')
    expect(doc!.labels).toContainEqual({
      key: 'app.kubernetes.io/name',
      value: served.metadata.labels!['app.kubernetes.io/name'],
    })
    const { managedFields: _dropped, ...metadata } = served.metadata
    const expected = { ...served, metadata }
    const decoded = decodeKeys(doc!.object) as Record<string, unknown>
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(expected))
  })

  it('applies exactly 50 changes, 50 deletions and 50 creations, then a resync writes nothing', async () => {
    const ns = namespaces[1]!
    const core = kc.makeApiClient(CoreV1Api)
    const list = await core.listNamespacedConfigMap({ namespace: ns })
    const items = list.items.slice(0, 100)
    const limit = pLimit(16)
    await Promise.all(
      items.slice(0, 50).map((cm) =>
        limit(() =>
          core.patchNamespacedConfigMap({
            namespace: ns,
            name: cm.metadata!.name!,
            body: [{ op: 'replace', path: '/data/LOG_LEVEL', value: 'trace' }],
          }),
        ),
      ),
    )
    await Promise.all(
      items
        .slice(50, 100)
        .map((cm) =>
          limit(() => core.deleteNamespacedConfigMap({ namespace: ns, name: cm.metadata!.name! })),
        ),
    )
    await createConfigMaps(
      kc,
      ns,
      Array.from({ length: 50 }, (_, i) => `fresh-${i}`),
    )

    const out = await h.reconcile({ resources: ['v1/configmaps'], namespaces })
    expect(out.resources[0]).toMatchObject({
      status: 'complete',
      inserted: 50,
      updated: 50,
      deleted: 50,
    })
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', namespaces)).toMatchObject(
      converged,
    )

    const writes: CommandStartedEvent[] = []
    const onCommand = (e: CommandStartedEvent) => {
      if (
        ['insert', 'update', 'delete', 'findAndModify'].includes(e.commandName) &&
        e.databaseName === h.db.databaseName
      ) {
        const target = (e.command as Record<string, unknown>)[e.commandName]
        if (target !== 'sync_state' && target !== 'sync_leases') writes.push(e)
      }
    }
    h.mongo.on('commandStarted', onCommand)
    try {
      const again = await h.reconcile({ namespaces })
      expect(again.ok).toBe(true)
      for (const r of again.resources)
        expect(r).toMatchObject({ inserted: 0, updated: 0, deleted: 0 })
    } finally {
      h.mongo.off('commandStarted', onCommand)
    }
    // Only the lease and checkpoint (sync_state) were written; no object collection saw a write.
    expect(
      writes.map(
        (e) => `${e.commandName} ${String((e.command as Record<string, unknown>)[e.commandName])}`,
      ),
    ).toEqual([])
  })

  it('reports what would change on a dry run and writes nothing', async () => {
    const ns = namespaces[2]!
    await createConfigMaps(kc, ns, ['dry-a', 'dry-b'])
    const before = await h.db.collection('configmaps').countDocuments()
    const out = await h.reconcile({ resources: ['v1/configmaps'], namespaces, dryRun: true })
    expect(out.dryRun).toBe(true)
    expect(out.resources[0]).toMatchObject({
      status: 'complete',
      inserted: 2,
      updated: 0,
      deleted: 0,
    })
    expect(await h.db.collection('configmaps').countDocuments()).toBe(before)
  })
})

describe('reconcile through faults', () => {
  const kc = kubeConfigFrom()
  let ns: string
  let h: Harness | undefined

  beforeAll(async () => {
    ns = uniqueName('recf')
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } })
    await createConfigMaps(
      kc,
      ns,
      Array.from({ length: 300 }, (_, i) => `cm-${i}`),
    )
  }, 120_000)
  afterAll(async () => {
    await h?.close()
  })

  it('retries a page that failed with 503 bursts and a connection reset, and converges', async () => {
    const proxy = await startFaultProxy()
    try {
      const page2 = and(isList, isContinuePage, pathMatches(/\/configmaps$/))
      proxy.addRule({ match: page2, action: { kind: 'reset' }, times: 1 })
      proxy.addRule({ match: page2, action: { kind: 'status', status: 503 }, times: 2 })
      proxy.addRule({
        match: and(isList, pathMatches(/\/configmaps$/)),
        action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
        times: 1,
      })
      h = await harness(
        { SYNC_RESOURCES: 'v1/configmaps', K8S_LIST_PAGE_SIZE: '100' },
        proxy.kubeconfigPath,
      )
      const out = await h.reconcile({ namespaces: [ns] })
      expect(out.resources[0]).toMatchObject({ status: 'complete', listed: 300, inserted: 300 })
      expect(proxy.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual([
        'status',
        'reset',
        'status',
        'status',
      ])
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
        converged,
      )
    } finally {
      await proxy.close()
      await h?.close()
      h = undefined
    }
  })

  it('syncs what it may and names the 403 of what it may not (restricted credentials)', async () => {
    h = await harness(
      { SYNC_RESOURCES: 'v1/configmaps,v1/secrets' },
      process.env.KUBECONFIG_RESTRICTED,
    )
    const out = await h.reconcile({ namespaces: [ns] })
    expect(out.ok).toBe(false)
    const [configmaps, secrets] = out.resources
    expect(configmaps).toMatchObject({
      resource: 'v1/configmaps',
      status: 'complete',
      inserted: 300,
    })
    expect(secrets).toMatchObject({ resource: 'v1/secrets', status: 'failed' })
    expect(secrets!.error).toMatch(/403/)
    await h.close()
    h = undefined
  })

  it('names an unknown resource as a per-resource error while the others sync', async () => {
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps,example.com/v1/gadgets' })
    const out = await h.reconcile({ namespaces: [ns] })
    expect(out.resources[0]!.status).toBe('complete')
    expect(out.resources[1]).toMatchObject({ resource: 'example.com/v1/gadgets', status: 'failed' })
    expect(out.resources[1]!.error).toMatch(/gadgets/)
    await h.close()
    h = undefined
  })

  it.skipIf(kubeIsExternal())(
    'survives a real 410 on a continue token (compaction mid-list) and converges',
    async () => {
      h = await harness({ SYNC_RESOURCES: 'v1/configmaps', K8S_LIST_PAGE_SIZE: '100' })
      await h.reconcile({ namespaces: [ns] })
      // Between the cluster and the inventory now: 20 objects gone, 20 new.
      const core = kc.makeApiClient(CoreV1Api)
      for (let i = 0; i < 20; i++)
        await core.deleteNamespacedConfigMap({ namespace: ns, name: `cm-${i}` })
      await createConfigMaps(
        kc,
        ns,
        Array.from({ length: 20 }, (_, i) => `late-${i}`),
      )

      let compacted = false
      const realList = h.kube.listPage
      const listPage: typeof realList = async (request) => {
        const page = await realList(request)
        if (!compacted && !request.continueToken) {
          compacted = true
          // Move the store on, then compact: the token of this list now points at history.
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('compaction-marker', 1),
          })
          // Continue pages are served from the watch cache's list snapshots; the
          // cache drops those older than a compaction once it notices it.
          await compactEtcd({ awaitApiServer: true })
        }
        return page
      }
      const { clusterSource } = await import('../../../lib/kube/cluster-source.js')
      h.source = clusterSource({ ...h.kube, listPage }, h.config)
      const out = await h.reconcile({ namespaces: [ns] })
      expect(compacted).toBe(true)
      expect(out.resources[0]).toMatchObject({ status: 'complete', deleted: 20 })
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
        converged,
      )
      await h.close()
      h = undefined
    },
  )

  it('ends cleanly at the deadline mid-list: partial report, nothing deleted, next run converges', async () => {
    const proxy = await startFaultProxy()
    try {
      h = await harness(
        { SYNC_RESOURCES: 'v1/configmaps', K8S_LIST_PAGE_SIZE: '20' },
        proxy.kubeconfigPath,
      )
      await h.reconcile({ namespaces: [ns] })
      const core = kc.makeApiClient(CoreV1Api)
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-100' })
      proxy.addRule({
        match: and(isList, pathMatches(/\/configmaps$/)),
        action: { kind: 'delay', ms: 300 },
        times: Infinity,
      })
      const partial = await h.reconcile({ namespaces: [ns] }, 1_500)
      expect(partial.ok).toBe(false)
      expect(partial.resources[0]).toMatchObject({ status: 'partial', deleted: 0 })
      expect(partial.resources[0]!.error).toMatch(/deadline/)
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject({
        extra: [expect.any(String)],
      })
      proxy.clearRules()
      const full = await h.reconcile({ namespaces: [ns] })
      expect(full.resources[0]).toMatchObject({ status: 'complete', deleted: 1 })
      expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
        converged,
      )
    } finally {
      await proxy.close()
      await h?.close()
      h = undefined
    }
  })

  it('does not resurrect an object a watch deleted while the list was in flight', async () => {
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps', K8S_LIST_PAGE_SIZE: '500' })
    const core = kc.makeApiClient(CoreV1Api)
    await createConfigMaps(kc, ns, ['doomed'])
    const resolved = await h.source.resolve(
      (await import('../../../lib/resource-ref.js')).parseResourceRef('v1/configmaps')!,
    )
    const { mongoResourceStore } = await import('../../../lib/store/resource-store.js')
    const watchSide = mongoResourceStore(h.db, resolved, {
      config: h.config,
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
      guard: h.breakers.guardOf('mongodb'),
      pacing: h.pacing,
    })
    const real = h.source
    h.source = {
      ...real,
      async *listPages(r, o) {
        for await (const page of real.listPages(r, o)) {
          const doomed = page.items.find((i) => i.metadata.name === 'doomed')
          if (doomed) {
            // The object goes away, and a watch records that, before this stale page is written.
            await core.deleteNamespacedConfigMap({ namespace: ns, name: 'doomed' })
            await watchSide.write([
              {
                type: 'delete',
                uid: doomed.metadata.uid,
                deletedAtResourceVersion: String(Number(page.listResourceVersion) + 1),
              },
            ])
          }
          yield page
        }
      },
    }
    const out = await h.reconcile({ namespaces: [ns] })
    expect(out.resources[0]!.status).toBe('complete')
    expect(await h.db.collection('configmaps').countDocuments({ name: 'doomed' })).toBe(0)
    h.source = real
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
    await h.close()
    h = undefined
  })
})
