import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import {
  and,
  isContinuePage,
  isWatch,
  pathMatches,
  startFaultProxy,
  type FaultProxy,
} from '../../stack/fault-proxy.js'
import {
  collectWatch,
  createTestNamespace,
  kubeConfigFrom,
  kubeIsExternal,
  rejectionOf,
} from '../../stack/test-helpers.js'

describe.skipIf(kubeIsExternal())('the HTTP fault proxy, seen by @kubernetes/client-node', () => {
  let proxy: FaultProxy
  let core: CoreV1Api
  let direct: CoreV1Api
  let namespace: string
  let viaProxy: KubeConfig
  const configMaps = () => pathMatches(`/api/v1/namespaces/${namespace}/configmaps`)

  beforeAll(async () => {
    const admin = kubeConfigFrom()
    direct = admin.makeApiClient(CoreV1Api)
    namespace = await createTestNamespace(admin, 'faults')
    for (let i = 0; i < 4; i++) {
      await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` } } })
    }
    proxy = await startFaultProxy()
    viaProxy = proxy.kubeConfig()
    core = viaProxy.makeApiClient(CoreV1Api)
  })

  afterEach(() => proxy.clearRules())
  afterAll(() => proxy.close())

  it('forwards ordinary requests unchanged', async () => {
    const list = await core.listNamespacedConfigMap({ namespace })
    expect(list.items).toHaveLength(4)
  })

  it.each([502, 503, 504])(
    'answers %i to the next N matching requests, then forwards',
    async (status) => {
      const rule = proxy.addRule({
        match: configMaps(),
        action: { kind: 'status', status },
        times: 2,
      })
      for (let i = 0; i < 2; i++) {
        const error = await rejectionOf(core.listNamespacedConfigMap({ namespace }))
        expect(error).toMatchObject({ code: status })
      }
      await expect(core.listNamespacedConfigMap({ namespace })).resolves.toBeDefined()
      expect(rule).toMatchObject({ matched: 3, applied: 2 })
    },
  )

  it('answers 429 with Retry-After', async () => {
    proxy.addRule({
      match: configMaps(),
      action: { kind: 'status', status: 429, retryAfterSeconds: 2 },
    })
    const error = await rejectionOf(core.listNamespacedConfigMap({ namespace }))
    expect(error).toMatchObject({ code: 429, headers: { 'retry-after': '2' } })
    expect(JSON.parse((error as { body: string }).body)).toMatchObject({
      reason: 'TooManyRequests',
    })
  })

  it('answers 410 Expired to the second continue page, with a usable inconsistent token', async () => {
    const rule = proxy.addRule({
      match: and(configMaps(), isContinuePage),
      action: { kind: 'expired' },
      skip: 1,
    })
    const page1 = await core.listNamespacedConfigMap({ namespace, limit: 1 })
    const page2 = await core.listNamespacedConfigMap({
      namespace,
      limit: 1,
      _continue: page1.metadata?._continue,
    })
    const error = await rejectionOf(
      core.listNamespacedConfigMap({ namespace, limit: 1, _continue: page2.metadata?._continue }),
    )
    expect(error.code).toBe(410)
    const status = JSON.parse(error.body)
    expect(status).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 })
    const rest = await core.listNamespacedConfigMap({
      namespace,
      _continue: status.metadata.continue,
    })
    expect(rest.items.map((cm) => cm.metadata?.name)).toEqual(['cm-2', 'cm-3'])
    // matched counts the skipped page 2 and the follow-up request too; only page 3 got the fault.
    expect(rule).toMatchObject({ matched: 3, applied: 1 })
  })

  it('cuts a watch stream after N events', async () => {
    proxy.addRule({
      match: and(configMaps(), isWatch),
      action: { kind: 'cutWatch', afterEvents: 2 },
    })
    const outcome = await collectWatch(viaProxy, `/api/v1/namespaces/${namespace}/configmaps`, {
      resourceVersion: '0',
    })
    expect(outcome.events.map((e) => e.object.metadata?.name)).toEqual(['cm-0', 'cm-1'])
    expect(outcome.ended).toBe(true)
  })

  it('stalls a watch: headers, then silence', async () => {
    const rule = proxy.addRule({
      match: and(configMaps(), isWatch),
      action: { kind: 'stallWatch' },
    })
    const outcome = await collectWatch(
      viaProxy,
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: '0' },
      { timeoutMs: 1_500 },
    )
    expect(outcome).toMatchObject({ events: [], ended: false })
    expect(rule.applied).toBe(1)
  })

  it('resets the connection without an answer', async () => {
    proxy.addRule({ match: configMaps(), action: { kind: 'reset' } })
    const error = await rejectionOf(core.listNamespacedConfigMap({ namespace }))
    expect(String(error)).toMatch(/socket hang up|ECONNRESET|fetch failed|network/i)
  })
})
