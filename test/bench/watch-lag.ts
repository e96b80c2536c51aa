import { inParallel, type KubeHttp } from './kube-http.js'
import type { BenchObjectRef } from './seeding.js'
import { sleep } from './sleep.js'

/** One change made through the API server: when its write returned, and what it produced. */
export interface MadeChange {
  readonly uid: string
  readonly resourceVersion: string
  /** Epoch ms at which the PATCH response arrived (the API server's write is done). */
  readonly returnedAt: number
}

/**
 * `count` changes to distinct objects at a steady rate (`perSecond`), each a
 * merge patch of one data key. Each request starts on its own schedule, so a
 * slow answer does not delay the next change.
 */
export async function makeSteadyChanges(
  kube: KubeHttp,
  targets: readonly BenchObjectRef[],
  count: number,
  perSecond: number,
): Promise<MadeChange[]> {
  const picked = targets.slice(0, count)
  if (picked.length < count) throw new Error(`watch bench: only ${picked.length} objects to change`)
  const changes: MadeChange[] = []
  const start = Date.now()
  const interval = 1000 / perSecond
  await inParallel(picked, 256, async ({ namespace, name }, i) => {
    const wait = start + i * interval - Date.now()
    if (wait > 0) await sleep(wait)
    const res = await kube.request('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${name}`, {
      body: { data: { WATCHED_AT: new Date().toISOString() } },
      contentType: 'application/merge-patch+json',
    })
    const returnedAt = Date.now()
    if (res.status !== 200) throw new Error(`patch ${namespace}/${name}: HTTP ${res.status}`)
    const metadata = (
      JSON.parse(res.body) as { metadata: { uid: string; resourceVersion: string } }
    ).metadata
    changes.push({ uid: metadata.uid, resourceVersion: metadata.resourceVersion, returnedAt })
  })
  return changes
}
