import { inParallel, type KubeHttp } from './kube-http.js'
import { createObjects, deleteObjects, listBenchObjects, SEED_CONCURRENCY } from './seeding.js'

/**
 * 1% of the objects changed, created or deleted (a third each) between two
 * reconciles; the count stays N, so the next run can reuse the seed.
 */
export async function applyChurn(
  kube: KubeHttp,
  objects: number,
): Promise<{ changed: number; updated: number; created: number; deleted: number }> {
  const total = Math.max(3, Math.round(objects / 100))
  const updated = Math.ceil(total / 3)
  const deleted = Math.floor(total / 3)
  const created = total - updated - deleted
  const existing = await listBenchObjects(kube)
  // Evenly spread picks, so every page and namespace sees some.
  const stride = Math.max(1, Math.floor(existing.length / (updated + deleted)))
  const picked = existing.filter((_, i) => i % stride === 0).slice(0, updated + deleted)
  const toUpdate = picked.slice(0, updated)
  const toDelete = picked.slice(updated)
  const stamp = new Date().toISOString()
  await inParallel(toUpdate, SEED_CONCURRENCY, async ({ namespace, name }) => {
    const res = await kube.request('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${name}`, {
      body: { data: { CHURNED_AT: stamp } },
      contentType: 'application/merge-patch+json',
    })
    if (res.status !== 200) throw new Error(`patch ${namespace}/${name}: HTTP ${res.status}`)
  })
  await deleteObjects(kube, toDelete)
  await createObjects(kube, created, new Set(existing.map((r) => r.name)))
  return { changed: updated + deleted + created, updated, created, deleted }
}
