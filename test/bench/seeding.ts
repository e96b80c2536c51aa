import { BENCH_SELECTOR, benchConfigMap, benchNamespaces, namespaceOf } from './fixtures.js'
import { inParallel, type KubeHttp } from './kube-http.js'

/*
 * Makes the cluster hold exactly N bench ConfigMaps, reusing whatever a
 * previous run left (creating or deleting only the difference). Not timed.
 */

export const SEED_CONCURRENCY = 48

export interface BenchObjectRef {
  readonly namespace: string
  readonly name: string
}

interface MetaList {
  items: { metadata: { name: string; namespace: string } }[] | null
  metadata: { continue?: string }
}

const metadataOnly = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'

/** Every bench ConfigMap, by name only (metadata-only list). */
export async function listBenchObjects(kube: KubeHttp): Promise<BenchObjectRef[]> {
  const refs: BenchObjectRef[] = []
  let token: string | undefined
  do {
    const query = new URLSearchParams({ labelSelector: BENCH_SELECTOR, limit: '10000' })
    if (token) query.set('continue', token)
    const res = await kube.request('GET', `/api/v1/configmaps?${query.toString()}`, {
      accept: metadataOnly,
    })
    if (res.status !== 200) throw new Error(`list bench objects: HTTP ${res.status}`)
    const list = JSON.parse(res.body) as MetaList
    for (const item of list.items ?? []) refs.push(item.metadata)
    token = list.metadata.continue || undefined
  } while (token)
  return refs
}

async function ensureNamespaces(kube: KubeHttp): Promise<void> {
  await inParallel(benchNamespaces(), 8, async (name) => {
    const res = await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name } } })
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`create namespace ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`)
  })
}

/** Creates `count` new ConfigMaps whose names do not collide with `taken`; returns them. */
export async function createObjects(
  kube: KubeHttp,
  count: number,
  taken: ReadonlySet<string>,
  onProgress?: (done: number) => void,
): Promise<BenchObjectRef[]> {
  const created: BenchObjectRef[] = []
  const indexes: number[] = []
  for (let i = 0; indexes.length < count; i++) if (!taken.has(`cm-${i}`)) indexes.push(i)
  await inParallel(indexes, SEED_CONCURRENCY, async (i) => {
    const namespace = namespaceOf(i)
    const name = `cm-${i}`
    const res = await kube.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      body: benchConfigMap(name, i),
    })
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`create ${namespace}/${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`)
    created.push({ namespace, name })
    if (onProgress && created.length % 1000 === 0) onProgress(created.length)
  })
  return created
}

export async function deleteObjects(
  kube: KubeHttp,
  refs: readonly BenchObjectRef[],
): Promise<void> {
  await inParallel(refs, SEED_CONCURRENCY, async ({ namespace, name }) => {
    const res = await kube.request('DELETE', `/api/v1/namespaces/${namespace}/configmaps/${name}`)
    if (res.status !== 200 && res.status !== 404)
      throw new Error(`delete ${namespace}/${name}: HTTP ${res.status}`)
  })
}

export interface SeedOutcome {
  readonly created: number
  readonly deleted: number
  readonly ms: number
}

export async function ensureBenchObjects(
  kube: KubeHttp,
  objects: number,
  log: (line: string) => void,
): Promise<SeedOutcome> {
  const t0 = Date.now()
  await ensureNamespaces(kube)
  const existing = await listBenchObjects(kube)
  let created = 0
  let deleted = 0
  if (existing.length < objects) {
    const missing = objects - existing.length
    log(`seeding ${missing} ConfigMaps (${existing.length} already there)`)
    const taken = new Set(existing.map((r) => r.name))
    created = (
      await createObjects(kube, missing, taken, (done) => {
        const rate = Math.round((done / (Date.now() - t0)) * 1000)
        log(`  ${done}/${missing} created (${rate}/s)`)
      })
    ).length
  } else if (existing.length > objects) {
    const surplus = existing.slice(objects)
    log(`deleting ${surplus.length} surplus ConfigMaps`)
    await deleteObjects(kube, surplus)
    deleted = surplus.length
  }
  return { created, deleted, ms: Date.now() - t0 }
}
