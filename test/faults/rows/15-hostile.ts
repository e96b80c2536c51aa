import { request, type RequestOptions } from 'node:https'
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from '@kubernetes/client-node'
import { decodeKeys } from '../../../lib/store/documents/key-encoding.js'
import { retriesOf } from '../invoke.js'
import { errorOf, sleep, statusOf, type Scenario } from '../scenario.js'
import { targets } from './common.js'

const group = 'faults.example.com'
const gadgets = `${group}/v1/gadgets`

/** The object exactly as served (raw JSON, no client-side deserialisation). */
async function rawGet(kc: KubeConfig, path: string): Promise<{ status: number; body: string }> {
  const server = new URL(kc.getCurrentCluster()!.server)
  const opts: RequestOptions = { hostname: server.hostname, port: server.port, path, method: 'GET' }
  await kc.applyToHTTPSOptions(opts)
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Canonical JSON (sorted keys): the comparison is of content, the store keeps key order too. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  )
}

/** The first place (depth first) where the two objects' key orders differ. */
function keyOrder(a: unknown, b: unknown, path = ''): string {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return ''
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.join() !== kb.join())
    return `${path || '.'}: served ${ka.join(',')}; stored ${kb.join(',')}`
  for (const k of ka) {
    const inner = keyOrder(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    )
    if (inner) return inner
  }
  return ''
}

const hostileKeys = {
  $ref: '#/definitions/x',
  $: 'dollar',
  '%': 'percent',
  '%2E': 'looks encoded already',
  'a.b.c': 'dotted',
  '.leading': 'dot first',
  'trailing.': 'dot last',
  'ünïcødé.键.🔑': 'unicode',
  $set: { 'x.y': [{ $in: [1, 2] }, [['nested', 'arrays'], []]] },
  'key with spaces': null,
}

export const row15: Scenario = {
  row: 15,
  fault: 'hostile data: ./$/%/unicode keys, 1 MB ConfigMap, kind removed (404)',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const kc = ctx.kc
    const core = kc.makeApiClient(CoreV1Api)
    const custom = kc.makeApiClient(CustomObjectsApi)
    const ext = kc.makeApiClient(ApiextensionsV1Api)
    const ns = `${ctx.prefix}-hostile`
    await core.createNamespace({ body: { metadata: { name: ns } } })
    ctx.defer(() => core.deleteCollectionNamespacedConfigMap({ namespace: ns }))
    ctx.defer(() =>
      custom.deleteCollectionNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: ns,
        plural: 'widgets',
      }),
    )

    const metadata = {
      labels: { 'app.kubernetes.io/name': 'hostile', 'example.com/a.b': 'c.d', tier: 'x' },
      annotations: {
        'example.com/dotted.key': 'value with $dollar and %percent and 日本語 ✓',
        'kubectl.kubernetes.io/last-applied-configuration': '{"$": "%2E"}',
      },
    }
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: { name: 'hostile-keys', ...metadata },
        data: {
          '.dotfile': 'x',
          'a.b.c': 'y',
          'nginx.conf': 'z',
          '_-.': 'mixed',
          value: 'ünïcødé € $ %',
        },
      },
    })
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'one-megabyte' }, data: { 'big.txt': 'x'.repeat(1_000_000) } },
    })
    await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: ns,
      plural: 'widgets',
      body: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'hostile-widget', ...metadata },
        spec: hostileKeys,
      },
    })

    // A kind that will be removed from the API: its own CRD, with objects.
    const crdName = `gadgets.${group}`
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          ],
        },
      },
    })
    ctx.defer(() => ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined))
    for (let i = 0; i < 50; i++) {
      try {
        await custom.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace: ns,
          plural: 'gadgets',
          body: {
            apiVersion: `${group}/v1`,
            kind: 'Gadget',
            metadata: { name: `g-${i % 3}` },
            spec: { n: i },
          },
        })
        if (i % 3 === 2) break
      } catch (error) {
        if ((error as { code?: number }).code === 409) continue
        await sleep(200) // CRD not established yet
      }
    }

    const env = ctx.env({ SYNC_RESOURCES: `v1/configmaps,example.com/v1/widgets,${gadgets}` })
    ctx.faultStarts()
    const first = await ctx.invoke('reconcile', { namespaces: [ns] }, env)
    ctx.expect(
      first.exitCode === 0,
      `first run exit ${first.exitCode}: ${JSON.stringify(first.result?.resources.map((r) => r.error ?? r.status) ?? first.text)}`,
    )
    const synced = [
      ...targets(['v1/configmaps', 'example.com/v1/widgets'], [ns]),
      { resource: gadgets, kind: 'Gadget', namespaces: [ns] },
    ]
    await ctx.expectConverged(synced)

    // Round trip: decode(doc.object) equals the served object minus managedFields.
    const db = await ctx.db()
    const paths: [string, string][] = [
      ['configmaps', `/api/v1/namespaces/${ns}/configmaps/hostile-keys`],
      ['configmaps', `/api/v1/namespaces/${ns}/configmaps/one-megabyte`],
      ['widgets.example.com', `/apis/example.com/v1/namespaces/${ns}/widgets/hostile-widget`],
    ]
    for (const [collection, path] of paths) {
      const served = JSON.parse((await rawGet(kc, path)).body) as {
        metadata: Record<string, unknown>
      }
      delete served.metadata.managedFields
      const doc = await db
        .collection<{ object: unknown }>(collection)
        .findOne({ name: path.split('/').at(-1) })
      const back = doc ? decodeKeys(doc.object) : undefined
      ctx.expect(
        back !== undefined && canonical(back) === canonical(served),
        `${path}: stored object does not decode to the served one`,
      )
      if (back !== undefined && JSON.stringify(back) !== JSON.stringify(served))
        ctx.note(`${path}: equal content, different key order at ${keyOrder(served, back)}`)
    }
    const labelDoc = await db
      .collection('widgets.example.com')
      .findOne({ 'labels.key': 'example.com/a.b', 'labels.value': 'c.d' })
    ctx.expect(labelDoc !== null, 'labels are not queryable unencoded')

    // Remove the kind: its list answers 404; the others still sync; its documents are not deleted.
    await ext.deleteCustomResourceDefinition({ name: crdName })
    for (
      let i = 0;
      i < 50 && (await rawGet(kc, `/apis/${group}/v1/namespaces/${ns}/gadgets`)).status !== 404;
      i++
    )
      await sleep(200)
    const before = await db.collection('gadgets.faults.example.com').countDocuments()
    const second = await ctx.invoke('reconcile', { namespaces: [ns] }, env)
    const gone = errorOf(second, gadgets) ?? ''
    ctx.expect(second.exitCode === 2, `after removal: exit ${second.exitCode}, expected 2`)
    ctx.expect(
      statusOf(second, gadgets) === 'failed' && /404|not found|gadgets/i.test(gone),
      `removed kind: ${statusOf(second, gadgets)} ${gone}`,
    )
    ctx.expect(
      statusOf(second, 'v1/configmaps') === 'complete' &&
        statusOf(second, 'example.com/v1/widgets') === 'complete',
      'the other kinds did not sync',
    )
    ctx.expect(retriesOf(second).length === 0, `${retriesOf(second).length} retries of a 404`)
    const after = await db.collection('gadgets.faults.example.com').countDocuments()
    ctx.expect(
      after === before,
      `documents of the removed kind went from ${before} to ${after} on a failed list`,
    )
    ctx.note(`removed kind: ${gone}`)
    await ctx.expectConverged(targets(['v1/configmaps', 'example.com/v1/widgets'], [ns]))
  },
}
