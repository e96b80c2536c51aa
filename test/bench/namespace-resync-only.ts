import { MongoClient } from 'mongodb'

import { createKubeClient } from '../../lib/kube/client.js'
import { unguarded } from '../../lib/resilience/circuit-breaker.js'
import { collectionNameOf, parseResourceRef } from '../../lib/resource-ref.js'
import type { StackEnv } from '../stack/env-file.js'
import type { BenchArgs } from './args.js'
import { BENCH_RESOURCE } from './configs.js'
import { lambdaNodeFlags } from './deployed-process.js'
import { kubeHttp } from './kube-http.js'
import { benchNamespaceResync, type NamespaceResyncFigure } from './namespace-resync.js'
import { ensureBenchObjects } from './seeding.js'

/** `npm run bench -- --namespace-resync-only`: seeds the objects and measures only that figure. */
export async function namespaceResyncOnly(
  env: StackEnv,
  args: BenchArgs,
  log: (line: string) => void,
): Promise<NamespaceResyncFigure> {
  const kube = await kubeHttp(env.KUBECONFIG!)
  const mongo = await new MongoClient(env.MONGODB_URI!).connect()
  try {
    const seeded = await ensureBenchObjects(kube, args.objects, log)
    log(`seed: ${args.objects} ConfigMaps ready (${seeded.ms} ms, not timed)`)
    const client = createKubeClient(
      { kind: 'file', path: env.KUBECONFIG! },
      { requestTimeoutMs: 120_000, guard: unguarded },
    )
    const resolved = await client.discover(parseResourceRef(BENCH_RESOURCE)!)
    return await benchNamespaceResync(env, mongo, {
      objects: args.objects,
      collectionName: collectionNameOf(resolved.ref),
      nodeFlags: args.lambdaMemoryMb > 0 ? lambdaNodeFlags(args.lambdaMemoryMb) : [],
      log,
    })
  } finally {
    kube.close()
    await mongo.close()
  }
}
