import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { MongoClient } from 'mongodb'

import { deployedReconcileMemoryMb, lambdaNodeFlags } from './deployed-process.js'
import { startSyncChild } from './sync-child.js'
import { ensureStack } from './stack.js'

/*
 * docs/design.md#invariant-6-bounded on the real stack, in bytes: 500
 * ConfigMaps of about 900 KiB each (the size of Helm release data, just under
 * etcd's 1.5 MiB request limit), about 450 MB as served, reconciled by the
 * sync as deployed (bundled, under the V8 heap limits of the reconcile
 * function's memory from serverless.yml). The default `limit` of 500 asks for
 * the whole 450 MB in one page: K8S_LIST_PAGE_MAX_BYTES (64 MiB) stops each
 * read at the cap, the limit halves until a page fits, and the pass
 * completes. Prints the peak RSS (sampled, and the kernel's high-water mark).
 *
 * Creating 450 MB in etcd takes minutes, so this is a script of its own
 * (`npm run bench:large-objects`), not part of `npm test`; the byte caps
 * themselves are tested there with small caps (test/integration/kube/byte-caps.test.ts).
 *
 *   npm run bench:large-objects -- [--objects 500] [--kib 900] [--namespace NAME] [--keep]
 *
 * --namespace reuses a namespace that already holds the objects (nothing is
 * created); --keep leaves the namespace for another run.
 */

const CREATE_POOL = 8

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '500' },
    kib: { type: 'string', default: '900' },
    namespace: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'lambda-memory': { type: 'string' },
    /** KEY=VALUE settings for the sync (e.g. K8S_LIST_PAGE_MAX_BYTES=33554432), repeatable. */
    set: { type: 'string', multiple: true, default: [] },
  },
})
const settings = Object.fromEntries(
  values.set.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
)
const objects = Number(values.objects)
const kib = Number(values.kib)
const memoryMb = values['lambda-memory']
  ? Number(values['lambda-memory'])
  : deployedReconcileMemoryMb()
const log = (line: string) => process.stderr.write(`large-objects: ${line}\n`)

/** Helm stores a release as base64 of gzip: text that does not compress, like this. */
function releaseData(kibibytes: number): string {
  return randomBytes(Math.floor((kibibytes * 1024 * 3) / 4)).toString('base64')
}

async function createObjects(core: CoreV1Api, namespace: string): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async () => {
    for (let i = next++; i < objects; i = next++) {
      await core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: `release-${String(i).padStart(4, '0')}`, labels: { owner: 'helm' } },
          data: { release: releaseData(kib) },
        },
      })
      if ((i + 1) % 100 === 0) log(`created ${i + 1} of ${objects}`)
    }
  }
  await Promise.all(Array.from({ length: CREATE_POOL }, worker))
  return Math.round(performance.now() - started)
}

async function main(): Promise<void> {
  const env = await ensureStack(log)
  const kc = new KubeConfig()
  kc.loadFromFile(env.KUBECONFIG!)
  const core = kc.makeApiClient(CoreV1Api)
  const namespace = values.namespace ?? `large-objects-${Date.now().toString(36)}`
  let createMs: number | undefined
  if (!values.namespace) {
    await core.createNamespace({ body: { metadata: { name: namespace } } })
    log(`creating ${objects} ConfigMaps of ${kib} KiB in ${namespace}, ${CREATE_POOL} at a time`)
    createMs = await createObjects(core, namespace)
    log(`created in ${(createMs / 1000).toFixed(1)} s`)
  }

  const dbName = `large_objects_${process.pid}`
  const flags = lambdaNodeFlags(memoryMb)
  log(`reconciling as a ${memoryMb} MB function (${flags.join(' ')})`)
  const child = await startSyncChild(
    { mongoUri: env.MONGODB_URI!, kubeconfig: env.KUBECONFIG!, dbName, settings },
    { nodeFlags: flags },
  )
  let reconciled: Awaited<ReturnType<typeof child.reconcile>> | undefined
  let failure: unknown
  try {
    reconciled = await child.reconcile()
  } catch (error) {
    failure = error
  }
  const memory = await child.exit()

  const mongo = await new MongoClient(env.MONGODB_URI!).connect()
  try {
    const stored = await mongo.db(dbName).collection('configmaps').countDocuments({ namespace })
    const result = {
      objects,
      kib,
      createMs,
      lambdaMemoryMb: memoryMb,
      nodeFlags: flags,
      settings,
      status: reconciled?.report.status ?? 'failed',
      error: failure instanceof Error ? failure.message : undefined,
      reconcileMs: reconciled?.ms,
      pages: reconciled?.report.pages,
      listed: reconciled?.report.listed,
      inserted: reconciled?.report.inserted,
      storedInNamespace: stored,
      ...memory,
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    log(
      `${result.status}: ${stored} of ${objects} stored, ${result.pages ?? '?'} pages, ` +
        `peak RSS ${memory.peakRssMb} MB (high-water ${memory.maxRssMb} MB) of ${memoryMb} MB`,
    )
    if (result.status !== 'complete' || stored !== objects) process.exitCode = 1
  } finally {
    await mongo.db(dbName).dropDatabase()
    await mongo.close()
    if (!values.keep && !values.namespace) {
      // The stack runs no namespace controller: a deleted namespace keeps its objects until they are deleted.
      await core.deleteCollectionNamespacedConfigMap({ namespace })
      await core.deleteNamespace({ name: namespace })
    }
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exitCode = 1
})
