import { and, isContinuePage, isList, startFaultProxy } from '../../stack/fault-proxy.js'
import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { retriesOf } from '../invoke.js'
import { sleep, type Scenario } from '../scenario.js'
import { allSeeded, syncResources, targets } from './common.js'

export const row01: Scenario = {
  row: 1,
  fault: 'API server connection reset mid-list; socket hang up mid-page',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(400)
    const all = targets(allSeeded, namespaces)
    const toxiproxy = new ToxiproxyClient(ctx.stack.TOXIPROXY_URL)

    // (a) TCP resets (toxiproxy reset_peer) on the API server link, twice, once the list is under way.
    let resets = 0
    let pages = 0
    const pending: Promise<void>[] = []
    const resetFor = async (ms: number) => {
      resets++
      await toxiproxy.addToxic('kube', {
        type: 'reset_peer',
        name: 'reset',
        attributes: { timeout: 0 },
      })
      await sleep(ms)
      await toxiproxy.removeToxic('kube', 'reset')
    }
    ctx.faultStarts()
    const a = await ctx.invoke(
      'reconcile',
      { namespaces },
      ctx.env({
        KUBECONFIG: ctx.stack.KUBECONFIG_TOXIPROXY,
        SYNC_RESOURCES: syncResources(allSeeded),
        K8S_LIST_PAGE_SIZE: '10',
        // The promise is that an outage shorter than the retry budget heals.
        // The matrix's fast 50-400 ms delays give ~0.75 s in all, which a
        // 300 ms reset window plus a loaded machine's toxiproxy latency can
        // outlast; 200 ms-1 s (~2.4 s) keeps the budget well above the window.
        RETRY_INITIAL_DELAY_MS: '200',
        RETRY_MAX_DELAY_MS: '1000',
      }),
      {
        onLog: (line) => {
          if (line.event !== 'reconcile.page') return
          pages++
          if (pages === 3 || pages === 12) pending.push(resetFor(300))
        },
      },
    )
    await Promise.all(pending)
    const kubeRetries = retriesOf(a).filter((l) =>
      /ECONNRESET|socket hang up|EPIPE/i.test(`${l.error?.reason} ${l.error?.message}`),
    )
    ctx.expect(
      a.exitCode === 0,
      `reset run: exit ${a.exitCode} ${JSON.stringify(a.result?.resources.map((r) => r.error ?? r.status))}`,
    )
    ctx.expect(resets === 2, `${resets} reset windows, expected 2`)
    ctx.expect(kubeRetries.length > 0, 'no retry logged for the connection resets')
    ctx.note(
      `reset_peer: ${kubeRetries.length} retries logged (${[...new Set(kubeRetries.map((l) => l.error?.reason))].join(', ')})`,
    )
    await ctx.expectConverged(all)

    // (b) socket hang up: the proxy destroys the socket of a continue page without an answer.
    const proxy = await startFaultProxy({ kubeconfig: ctx.stack.KUBECONFIG! })
    ctx.defer(() => proxy.close())
    const rule = proxy.addRule({
      match: and(isList, isContinuePage),
      action: { kind: 'reset' },
      skip: 2,
      times: 4,
    })
    const b = await ctx.invoke(
      'reconcile',
      { namespaces },
      ctx.env({
        KUBECONFIG: proxy.kubeconfigPath,
        SYNC_RESOURCES: syncResources(allSeeded),
        K8S_LIST_PAGE_SIZE: '10',
      }),
    )
    const hangUps = retriesOf(b).filter((l) =>
      /socket hang up|ECONNRESET/i.test(`${l.error?.reason} ${l.error?.message}`),
    )
    ctx.expect(b.exitCode === 0, `hang-up run: exit ${b.exitCode}`)
    ctx.expect(rule.applied === 4, `${rule.applied} hang-ups injected, expected 4`)
    ctx.expect(
      hangUps.length === rule.applied,
      `${rule.applied} hang-ups injected, ${hangUps.length} retries logged`,
    )
    await ctx.expectConverged(all)
  },
}
