import type { KubeConfig } from '@kubernetes/client-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import type { KubeClient } from '../../../lib/kube/client.js'
import type { ListPageRequest } from '../../../lib/kube/operations.js'
import { listPages } from '../../../lib/kube/pager.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import { apiServerCompactionLagMs, compactEtcd } from '../../stack/control.js'
import {
  and,
  isContinuePage,
  isList,
  startFaultProxy,
  type FaultProxy,
} from '../../stack/fault-proxy.js'
import { createTestNamespace, kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { sleep } from '../../stack/wait.js'
import { createConfigMaps, drain, fastPolicy, finalSeen, kubeClient, resolve } from './helpers.js'

describe.skipIf(kubeIsExternal())('the pager through API server faults', () => {
  let admin: KubeConfig
  let namespace: string
  let uids: string[]
  let proxy: FaultProxy
  let viaProxy: KubeClient
  let configMaps: ResolvedResource

  beforeAll(async () => {
    admin = kubeConfigFrom()
    namespace = await createTestNamespace(admin, 'pager-faults')
    uids = await createConfigMaps(admin, namespace, 160)
    proxy = await startFaultProxy()
    viaProxy = kubeClient(proxy.kubeconfigPath)
    configMaps = await resolve(viaProxy, 'v1/configmaps')
  })
  afterEach(() => proxy.clearRules())
  afterAll(() => proxy?.close())

  const pass = (
    options: { allowInconsistentContinue?: boolean } = {},
    listFn = viaProxy.listPage,
  ) =>
    drain(
      listPages(listFn, {
        resolved: configMaps,
        pageSize: 50,
        policy: fastPolicy,
        namespaces: [namespace],
        ...options,
      }),
    )
  const listRequests = () =>
    proxy.requests.filter((r) => r.url.includes(`/namespaces/${namespace}/configmaps`))

  it('retries a burst of 503s and a connection reset on continue pages, and completes', async () => {
    proxy.addRule({
      match: and(isList, isContinuePage),
      action: { kind: 'status', status: 503 },
      times: 3,
    })
    proxy.addRule({ match: and(isList, isContinuePage), action: { kind: 'reset' }, skip: 1 })
    const before = listRequests().length

    const { items: pages, result } = await pass()

    expect(result).toMatchObject({ consistent: true, restarts: 0, pages: 4 })
    expect(finalSeen(pages).sort()).toEqual([...uids].sort())
    const statuses = listRequests()
      .slice(before)
      .map((r) => r.fault ?? r.status)
    expect(statuses).toEqual([200, 'status', 'status', 'status', 200, 'reset', 200, 200])
  })

  it('waits as a 429 Retry-After asks', async () => {
    proxy.addRule({ match: isList, action: { kind: 'status', status: 429, retryAfterSeconds: 1 } })
    const started = Date.now()

    const { result } = await pass()

    expect(result.pages).toBe(4)
    // fastPolicy caps a delay at 400 ms: the cap wins over Retry-After (lib/retry.ts).
    expect(Date.now() - started).toBeGreaterThanOrEqual(350)
  })

  it('restarts the list after a 410 on a continue page and yields a consistent complete pass', async () => {
    proxy.addRule({ match: and(isList, isContinuePage), action: { kind: 'expired' }, skip: 1 })

    const { items: pages, result } = await pass()

    expect(result).toMatchObject({ restarts: 1, consistent: true })
    expect(pages.map((p) => [p.page, p.restarted])).toEqual([
      [1, false],
      [2, false],
      [1, true],
      [2, false],
      [3, false],
      [4, false],
    ])
    expect(finalSeen(pages).sort()).toEqual([...uids].sort())
  })

  it('follows the inconsistent token of the 410 when told there is no time, and says so', async () => {
    proxy.addRule({ match: and(isList, isContinuePage), action: { kind: 'expired' }, skip: 1 })

    const { items: pages, result } = await pass({ allowInconsistentContinue: true })

    expect(result).toMatchObject({ restarts: 0, consistent: false })
    expect(pages.map((p) => p.consistent)).toEqual([true, true, false, false])
    expect(finalSeen(pages).sort()).toEqual([...uids].sort())
  })

  it('retries a page whose connection toxiproxy resets mid-answer', async () => {
    const toxiproxy = new ToxiproxyClient()
    const viaToxiproxy = kubeClient(process.env.KUBECONFIG_TOXIPROXY)
    let failures = 0
    let toxic: string | undefined
    // Arm the toxic just before page 2 and take it away once it did its harm.
    const listFn = async (request: ListPageRequest) => {
      if (request.continueToken && failures === 0 && !toxic) {
        toxic = (
          await toxiproxy.addToxic('kube', {
            type: 'reset_peer',
            attributes: { timeout: 0 },
            name: 'kms-pager-reset',
          })
        ).name
      }
      try {
        return await viaToxiproxy.listPage(request)
      } catch (error) {
        failures++
        if (toxic) await toxiproxy.removeToxic('kube', toxic)
        toxic = undefined
        expect(classify(error).kind).toBe('transient')
        throw error
      }
    }

    try {
      const { items: pages, result } = await pass({}, listFn)
      expect(failures).toBeGreaterThanOrEqual(1)
      expect(result.consistent).toBe(true)
      expect(finalSeen(pages).sort()).toEqual([...uids].sort())
    } finally {
      if (toxic) await toxiproxy.removeToxic('kube', toxic)
    }
  })

  it('restarts after a real compaction expired the continue token, and ends consistent and complete', async () => {
    const direct = kubeClient()
    let token: string | undefined
    const listFn = async (request: ListPageRequest) => {
      const page = await direct.listPage(request)
      token ??= page.metadata.continue
      return page
    }

    const { items: pages, result } = await drain(
      listPages(listFn, {
        resolved: configMaps,
        pageSize: 50,
        policy: fastPolicy,
        namespaces: [namespace],
      }),
      async (page) => {
        if (page.page !== 1 || page.restarted) return
        await compactEtcd()
        // The API server notices within apiServerCompactionLagMs: wait until the token is refused.
        const deadline = Date.now() + apiServerCompactionLagMs + 5_000
        while (Date.now() < deadline) {
          const refused = await direct
            .listPage({ resolved: configMaps, namespace, limit: 50, continueToken: token })
            .then(() => undefined)
            .catch((e: unknown) => e)
          if (refused) {
            expect(refused).toMatchObject({ code: 410, reason: 'Expired' })
            return
          }
          await sleep(250)
        }
        throw new Error('the continue token never expired')
      },
    )

    expect(result).toMatchObject({ restarts: 1, consistent: true })
    expect(pages[1]).toMatchObject({ page: 1, restarted: true })
    expect(new Set(pages.slice(1).map((p) => p.listResourceVersion)).size).toBe(1)
    expect(finalSeen(pages).sort()).toEqual([...uids].sort())
  }, 60_000)
})
