/**
 * `npm run demo`: the main job on the local stack of real servers.
 *
 * Brings the stack up (building it on a first run), seeds a realistic
 * cluster, stores the credentials in the local Secrets Manager, runs
 * `reconcile` through `serverless invoke local`, changes some objects, runs
 * `watch`, and shows queries against the inventory and one ConfigMap's
 * history (`npm run history`). Then a fleet: the
 * stack's three clusters in one registry, planned onto the work queue and
 * drained by the reconcile workers (scripts/demo/fleet.ts).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { MongoClient } from 'mongodb'
import { decodeKeys } from '../lib/store/documents/key-encoding.js'
import { readEnvFile } from '../test/stack/env-file.js'
import { seed } from '../test/stack/seed.js'
import { configMap } from '../test/stack/seed-objects.js'
import { up } from '../test/stack/up.js'
import { fleetChapter } from './demo/fleet.js'
import { invokeLocal } from './demo/invoke-local.js'
import { heading, say, table } from './demo/print.js'
import { putSecret } from './demo/secrets.js'

const RESOURCES = 'v1/configmaps,v1/secrets,apps/v1/deployments,example.com/v1/widgets'
const DB = 'kube_inventory_demo'
const CLUSTER = 'demo'

async function main(): Promise<void> {
  heading('1. Local stack: 3 x kube-apiserver + etcd, FerretDB, Secrets Manager and SQS (moto)')
  // Three clusters for chapter 8's fleet (KMS_STACK_CLUSTERS, when set, wins).
  await up({ minClusters: 3 })
  const stack = readEnvFile()
  if (!stack) throw new Error('the stack wrote no .stack/env')
  Object.assign(process.env, stack)
  say(
    `API server ${stack.KUBE_APISERVER_URL ?? '(external)'}; MongoDB and Secrets Manager on 127.0.0.1`,
  )

  heading('2. Seeding a cluster')
  const seeded = await seed({
    objects: 1000,
    namespacePrefix: 'demo',
    perNamespace: 250,
    progress: process.stdout.isTTY,
  })
  say(`namespaces ${seeded.namespaces.join(', ')}: ${JSON.stringify(seeded.counts)}`)

  heading('3. Credentials into Secrets Manager, as in a deployment')
  const mongoSecret = await putSecret(
    'kube-mongo-sync/demo/mongodb',
    JSON.stringify({ uri: stack.MONGODB_URI }),
  )
  const kubeSecret = await putSecret(
    'kube-mongo-sync/demo/kubeconfig',
    readFileSync(stack.KUBECONFIG!, 'utf8'),
  )
  say(`MONGODB_SECRET_ID=${mongoSecret}\nKUBECONFIG_SECRET_ID=${kubeSecret}`)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MONGODB_URI: '',
    KUBECONFIG: '',
    MONGODB_SECRET_ID: 'kube-mongo-sync/demo/mongodb',
    KUBECONFIG_SECRET_ID: 'kube-mongo-sync/demo/kubeconfig',
    MONGODB_DB: DB,
    CLUSTER_NAME: CLUSTER,
    SYNC_RESOURCES: RESOURCES,
    // Every version the functions see of a ConfigMap is kept (docs/history.md).
    HISTORY_RESOURCES: 'v1/configmaps',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  }

  heading('4. reconcile (npx serverless invoke local -f reconcile --data {})')
  const rec = await invokeLocal('reconcile', {}, env)
  say(
    table(rec.resources as Array<Record<string, unknown>>, [
      'resource',
      'status',
      'listed',
      'inserted',
      'updated',
      'deleted',
      'unchanged',
      'pages',
      'durationMs',
    ]),
  )
  say(`ok: ${String(rec.ok)} in ${String(rec.durationMs)} ms`)

  heading('5. Changing the cluster: 5 ConfigMaps edited, 3 deleted, 2 created')
  const kc = new KubeConfig()
  kc.loadFromFile(stack.KUBECONFIG!)
  const core = kc.makeApiClient(CoreV1Api)
  const ns = seeded.namespaces[0]!
  for (let i = 0; i < 5; i++) {
    const name = `config-${i * 10}`
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name })
    cm.data = { ...cm.data, LOG_LEVEL: `demo-${Date.now()}` }
    await core.replaceNamespacedConfigMap({ namespace: ns, name, body: cm })
  }
  // config-0 once more, so its history has two watched versions after the reconcile's.
  const again = await core.readNamespacedConfigMap({ namespace: ns, name: 'config-0' })
  again.data = { ...again.data, REPLICAS: '3' }
  await core.replaceNamespacedConfigMap({ namespace: ns, name: 'config-0', body: again })
  for (let i = 0; i < 3; i++)
    await core
      .deleteNamespacedConfigMap({ namespace: ns, name: `config-${i * 10 + 1}` })
      .catch(() => undefined)
  for (let i = 0; i < 2; i++) {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: configMap(`demo-new-${Date.now()}-${i}`, i),
    })
  }

  heading(
    '6. watch replays the changes (npx serverless invoke local -f watch --data {"windowSeconds":5})',
  )
  const watched = await invokeLocal('watch', { windowSeconds: 5 }, env)
  say(
    table(watched.resources as Array<Record<string, unknown>>, [
      'resource',
      'status',
      'events',
      'bookmarks',
      'inserted',
      'updated',
      'deleted',
      'resourceVersion',
    ]),
  )

  heading('7. Querying the inventory')
  const mongo = await new MongoClient(stack.MONGODB_URI!).connect()
  try {
    const db = mongo.db(DB)
    const counts = await Promise.all(
      ['configmaps', 'secrets', 'deployments.apps', 'widgets.example.com'].map(async (c) => ({
        collection: c,
        documents: await db.collection(c).countDocuments({ cluster: CLUSTER }),
      })),
    )
    say(table(counts, ['collection', 'documents']))

    // Dotted paths into the labels array use the {cluster, labels.key, labels.value} index and work
    // on FerretDB too; on MongoDB, {labels: {$elemMatch: {key, value}}} pins both to one label.
    const query = {
      cluster: CLUSTER,
      'labels.key': 'app.kubernetes.io/name',
      'labels.value': 'checkout',
    }
    say(`\ndb.deployments.apps.countDocuments(${JSON.stringify(query)})`)
    say(`  -> ${await db.collection('deployments.apps').countDocuments(query)}`)

    // SECRET_MODE=metadata (the default): Secrets are listed and watched as metadata only.
    const secret = await db.collection('secrets').findOne({ cluster: CLUSTER, namespace: ns })
    const stored = (secret?.object ?? {}) as Record<string, unknown>
    say(`\nA Secret as stored (metadata only by default, no value leaves the API server):`)
    say(`  ${String(secret?.apiVersion)} ${String(secret?.kind)} ${String(secret?.name)}`)
    const data =
      'data' in stored ? `data: ${JSON.stringify(stored.data)}` : 'no data, not even its keys'
    say(`  object fields: ${Object.keys(stored).join(', ')} (${data})`)

    const doc = await db
      .collection('configmaps')
      .findOne({ cluster: CLUSTER, namespace: ns, name: 'config-0' })
    say('\nA ConfigMap: keys are stored encoded ("." -> %2E) and decodeKeys() restores them:')
    say(`  stored keys:  ${Object.keys((doc?.object as { data: object }).data).join(', ')}`)
    say(
      `  decoded keys: ${Object.keys((decodeKeys(doc?.object) as { data: object }).data).join(', ')}`,
    )

    const states = await db
      .collection('sync_state')
      .find({}, { projection: { lease: 0 } })
      .toArray()
    say('\nsync_state (checkpoints):')
    say(
      table(
        states.map((s) => ({
          _id: s._id,
          listRV: s.listResourceVersion as unknown,
          watchRV: s.watchResourceVersion as unknown,
          needsRelist: s.needsRelist as unknown,
        })),
        ['_id', 'listRV', 'watchRV', 'needsRelist'],
      ),
    )
  } finally {
    await mongo.close()
  }

  heading(
    `8. History of one ConfigMap (npm run history -- --resource v1/configmaps --namespace ${ns} --name config-0 --diff)`,
  )
  say(historyOf(ns, 'config-0', stack.MONGODB_URI!))

  heading('9. A fleet: three clusters, one deployment, planned onto SQS and drained by workers')
  await fleetChapter(stack, env)

  heading('Done')
  say('The stack keeps running for more experiments; stop it with: npm run stack:down')
}

/** `npm run history` on one object of the demo's cluster: its timeline and each patch. */
function historyOf(namespace: string, name: string, mongoUri: string): string {
  const run = spawnSync(
    'bash',
    [
      'scripts/node22.sh',
      'node',
      '--import',
      'tsx',
      'scripts/history.ts',
      ...['--resource', 'v1/configmaps', '--namespace', namespace, '--name', name],
      ...['--cluster', CLUSTER, '--diff'],
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, MONGODB_URI: mongoUri, MONGODB_SECRET_ID: '', MONGODB_DB: DB },
    },
  )
  if (run.status !== 0) throw new Error(`npm run history failed: ${run.stderr}`)
  return run.stdout.trimEnd()
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
