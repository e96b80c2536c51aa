import { inParallel, type KubeHttp } from './kube-http.js'
import type { BenchObjectRef } from './seeding.js'
import type { MadeChange } from './watch-lag.js'

/*
 * The history bench's burst (docs/history.md, issue 19): a few objects each
 * changed several times in a row inside one watch window, so that one watch
 * batch holds several versions of the same uid. The inventory writer coalesces
 * them to one write per uid; history must still keep every version, which is
 * what "history documents written = versions observed" checks.
 */

/** `updates` merge patches, one after the other, to each of `targets` (the objects in parallel). */
export async function makeBurstChanges(
  kube: KubeHttp,
  targets: readonly BenchObjectRef[],
  updates: number,
): Promise<MadeChange[]> {
  const changes: MadeChange[] = []
  await inParallel(targets, 32, async ({ namespace, name }) => {
    for (let n = 0; n < updates; n++) {
      const path = `/api/v1/namespaces/${namespace}/configmaps/${name}`
      const res = await kube.request('PATCH', path, {
        body: { data: { BURST: `${n}`, BURST_AT: new Date().toISOString() } },
        contentType: 'application/merge-patch+json',
      })
      const returnedAt = Date.now()
      if (res.status !== 200)
        throw new Error(`history bench burst: patch ${namespace}/${name}: HTTP ${res.status}`)
      const { metadata } = JSON.parse(res.body) as {
        metadata: { uid: string; resourceVersion: string }
      }
      changes.push({ uid: metadata.uid, resourceVersion: metadata.resourceVersion, returnedAt })
    }
  })
  return changes
}
