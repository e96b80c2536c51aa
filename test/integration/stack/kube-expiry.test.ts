import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { beforeAll, describe, expect, it } from 'vitest'

import { compactEtcd, restartApiServer } from '../../stack/control.js'
import {
  collectWatch,
  createTestNamespace,
  kubeConfigFrom,
  kubeIsExternal,
} from '../../stack/test-helpers.js'
import { sleep } from '../../stack/wait.js'

describe.skipIf(kubeIsExternal())('real 410s from the stack API server', () => {
  let admin: KubeConfig
  let core: CoreV1Api
  let namespace: string

  beforeAll(async () => {
    admin = kubeConfigFrom()
    core = admin.makeApiClient(CoreV1Api)
    namespace = await createTestNamespace(admin, 'expiry')
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` } } })
    }
  })

  it('expires a continue token once etcd is compacted, offering an inconsistent token', async () => {
    const first = await core.listNamespacedConfigMap({ namespace, limit: 2 })
    const token = first.metadata?._continue
    expect(token).toBeTruthy()
    const started = Date.now()
    await compactEtcd()
    // The watch cache drops its list snapshots within apiServerCompactionLagMs (<= 16.5 s).
    let error: { code?: number; body?: string } | undefined
    while (!error && Date.now() - started < 25_000) {
      error = await core
        .listNamespacedConfigMap({ namespace, limit: 2, _continue: token })
        .then(() => undefined)
        .catch((e: unknown) => e as { code: number; body: string })
      if (!error) await sleep(250)
    }
    console.log(`continue token expired ${Date.now() - started} ms after compaction`)
    expect(error?.code).toBe(410)
    const status = JSON.parse(error?.body ?? '{}')
    expect(status).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 })
    expect(status.metadata.continue).toBeTruthy()
    const rest = await core.listNamespacedConfigMap({
      namespace,
      limit: 10,
      _continue: status.metadata.continue,
    })
    expect(rest.items.map((cm) => cm.metadata?.name)).toEqual(['cm-2', 'cm-3', 'cm-4'])
  })

  it('answers a watch from a resourceVersion older than its watch cache with a 410 ERROR event', async () => {
    const list = await core.listNamespacedConfigMap({ namespace })
    const oldRv = list.metadata?.resourceVersion
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after' } } })
    await compactEtcd()
    await restartApiServer()
    const { events } = await collectWatch(
      admin,
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: oldRv },
      { stop: (e) => e.length >= 1 },
    )
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } })
  })
})
